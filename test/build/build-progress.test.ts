// No silent first run: `npm start`, `npm test` and `npm run build` go through scripts/build.mjs,
// which says it is building and names each project as tsc compiles it, and passes tsc's errors
// and exit status through. Run here on a two-project fixture with the project's own script.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const SCRIPT = path.join(ROOT, 'scripts', 'build.mjs')

function fixture (): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-build-'))
  const options = { composite: true, strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: [], outDir: 'out' }
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}')
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ files: [], references: [{ path: 'core' }, { path: 'app' }] }))
  for (const [name, refs, source] of [['core', [], 'export const one: number = 1\n'], ['app', [{ path: '../core' }], "import { one } from '../core/index.js'\nexport const two: number = one + 1\n"]] as const) {
    mkdirSync(path.join(dir, name))
    writeFileSync(path.join(dir, name, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, references: refs, include: ['*.ts'] }))
    writeFileSync(path.join(dir, name, 'index.ts'), source)
  }
  return dir
}

// A busy host must not slip a "still compiling" line into the exact sequences checked below.
const build = (cwd: string, args: string[] = [], stillMs = 3_600_000): { code: number | null, out: string, err: string } => {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, LAMBKIN_BUILD_STILL_MS: String(stillMs) } })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

test('a first build says what it does and names each project as it compiles; a second says nothing changed', () => {
  const dir = fixture()
  try {
    const first = build(dir)
    assert.is(first.code, 0, first.out + first.err)
    assert.match(first.err, /^building lambkin with tsc -b: a first build takes one to three minutes/)
    assert.match(first.err, /\n {2}compiling core \(1\/2\), [\d.]+ s so far\n {2}compiling app \(2\/2\), [\d.]+ s so far\nlambkin built in [\d.]+ s\n$/)
    const again = build(dir)
    assert.is(again.code, 0)
    assert.match(again.err, /lambkin is built: nothing changed\n$/)
    assert.not.match(again.err, 'compiling')
    // Only what a command needs: asking for core builds core alone.
    writeFileSync(path.join(dir, 'core', 'index.ts'), 'export const one: number = 2\n')
    const core = build(dir, ['core'])
    assert.match(core.err, /building lambkin \(core\)[^]*compiling core \(1\/1\)/)
    assert.not.match(core.err, 'compiling app')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a long silence gets "still ..." lines saying what tsc is at and the time so far', () => {
  const dir = fixture()
  try {
    // 50 ms without a line is "long" here: tsc's own start-up takes longer than that.
    const r = build(dir, [], 50)
    assert.is(r.code, 0, r.out + r.err)
    assert.match(r.err, /\n {2}still (?:starting tsc|compiling core|compiling app), [\d.]+ s so far\n/)
    assert.match(r.err, /lambkin built in [\d.]+ s\n$/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('tsc\'s errors pass through and the build fails', () => {
  const dir = fixture()
  try {
    writeFileSync(path.join(dir, 'app', 'index.ts'), 'export const two: number = "two"\n')
    const r = build(dir)
    assert.ok(r.code !== 0 && r.code !== null, `exit ${String(r.code)}`)
    assert.match(r.out, /app\/index\.ts\(1,14\): error TS2322/)
    assert.match(r.err, new RegExp(`the build failed \\(tsc exited ${String(r.code)}\\)`))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('npm start, npm test and npm run build all build through it', () => {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
  // The dashboard's bundle and the registry's SQL files (each a line of its own) follow the TypeScript.
  assert.is(scripts.build, 'node scripts/build.mjs && node scripts/build-web.mjs && node scripts/copy-sql.mjs')
  assert.is(scripts.prestart, 'node scripts/build.mjs cli && node scripts/build-web.mjs && node scripts/copy-sql.mjs', 'start needs only the cli project and what it references')
  assert.is(scripts.pretest, 'npm run build')
})

test.run()

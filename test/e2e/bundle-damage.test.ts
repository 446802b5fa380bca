// A board's dist/bundle/ after a power cut mid-build or a file lost (docs/performance.md,
// "What the agent loads"): bin.js and the sandbox thread must not hang or spin on a file cut
// short. Each test runs `lambkin` from a copy of dist/ (the real one stays whole for the
// tests running beside this one), node_modules, package.json and the examples linked beside it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const DIST = fileURLToPath(new URL('../..', import.meta.url))
const ROOT = path.dirname(DIST)
const EVENT = '{"source":"mqtt","topic":"sensors/gh2/temperature","payload":{"value":80}}'

/** A package root in a temp folder with its own copy of dist/ (no tests) and links to the rest. */
function copyRoot (): string {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-bundle-damage-'))
  cpSync(DIST, path.join(root, 'dist'), { recursive: true, preserveTimestamps: true, filter: (src) => !src.startsWith(path.join(DIST, 'test')) && !src.startsWith(path.join(DIST, 'bench')) })
  for (const n of ['node_modules', 'package.json', 'examples']) symlinkSync(path.join(ROOT, n), path.join(root, n))
  // Newer than tsc's build info, as `npm run build` leaves it: bin.js takes the bundle.
  const later = new Date(Date.now() + 1000)
  for (const n of readdirSync(path.join(root, 'dist/bundle'))) utimesSync(path.join(root, 'dist/bundle', n), later, later)
  return root
}

/** Cuts a file to its first `bytes` bytes, as a write a power cut ended would leave it. */
function cut (file: string, bytes: number): void {
  writeFileSync(file, readFileSync(file).subarray(0, bytes))
}

function invoke (root: string): { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [path.join(root, 'dist/cli/bin.js'), 'invoke', 'examples/threshold-alarm', '--event', EVENT],
    { cwd: root, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' })
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

test('a cut-short dist/bundle/cli.js: bin.js says so and runs the modules tsc wrote', () => {
  const root = copyRoot()
  try {
    const whole = invoke(root)
    assert.is(whole.code, 0, whole.stderr)
    cut(path.join(root, 'dist/bundle/cli.js'), 2000)
    const r = invoke(root)
    assert.is(r.code, 0, r.stderr)
    assert.is(r.stdout, whole.stdout)
    assert.match(r.stderr, /dist\/bundle\/cli\.js did not load \(SyntaxError/)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('a cut-short or missing dist/bundle/worker.js: the invocation fails with LAMBKIN_SANDBOX_CRASHED, no hang', () => {
  const root = copyRoot()
  try {
    const worker = path.join(root, 'dist/bundle/worker.js')
    cut(worker, 100)
    const r = invoke(root)
    assert.is(r.signal, null, `killed after 60 s: it hung (${r.stderr})`)
    assert.is.not(r.code, 0)
    assert.match(r.stderr, /LAMBKIN_SANDBOX_CRASHED/)
    assert.match(r.stderr, /the sandbox thread could not start \(.*SyntaxError|Unexpected/)
    rmSync(worker)
    const gone = invoke(root)
    assert.is(gone.signal, null, `killed after 60 s: it hung (${gone.stderr})`)
    assert.match(gone.stderr, /could not start \(.*(Cannot find module|ERR_MODULE_NOT_FOUND)/)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('a build after one a power cut ended: no temporary file left, every chunk whole', () => {
  const root = copyRoot()
  try {
    // A copy: a linked scripts/bundle.mjs would see its own path differ from argv[1] and not run.
    cpSync(path.join(ROOT, 'scripts'), path.join(root, 'scripts'), { recursive: true })
    const bundle = path.join(root, 'dist/bundle')
    const chunk = readdirSync(bundle).find((n) => n.startsWith('chunk-') && n.endsWith('.js'))!
    // What a build the power cut ended leaves: a chunk written half, beside its temporary file.
    writeFileSync(path.join(bundle, `${chunk}.4242.tmp`), 'export const half')
    cut(path.join(bundle, chunk), 50)
    const b = spawnSync(process.execPath, ['scripts/bundle.mjs'], { cwd: root, encoding: 'utf8', timeout: 120_000 })
    assert.is(b.status, 0, b.stderr)
    assert.equal(readdirSync(bundle).filter((n) => n.endsWith('.tmp')), [])
    const r = invoke(root)
    assert.is(r.code, 0, r.stderr)
    assert.not.match(r.stderr, /did not load/)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

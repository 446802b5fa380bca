// `lambkin` runs from dist/bundle/ (scripts/bundle.mjs, docs/architecture.md "Command line"):
// bin.js loads the bundle, the sandbox thread runs the bundled worker, every path the bundle
// takes from import.meta.url names a file that exists, and LAMBKIN_BUNDLE=off runs the modules
// tsc wrote, with the same output.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const BIN = fileURLToPath(new URL('../../cli/bin.js', import.meta.url))
const BUNDLE = fileURLToPath(new URL('../../bundle/', import.meta.url))
const ROOT = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)))

/** Runs bin.js with a loader hook that writes every module URL resolved (all threads) to a file. */
function traced (args: string[], env: Record<string, string> = {}): { code: number | null, stdout: string, stderr: string, urls: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-bundle-'))
  try {
    const out = path.join(dir, 'urls.txt')
    const hooks = path.join(dir, 'hooks.mjs')
    writeFileSync(hooks, [
      "import { appendFileSync } from 'node:fs'",
      'let out',
      'export async function initialize (d) { out = d.out }',
      "export async function resolve (s, c, next) { const r = await next(s, c); appendFileSync(out, r.url + '\\n'); return r }"
    ].join('\n'))
    const register = path.join(dir, 'register.mjs')
    writeFileSync(register, `import { register } from 'node:module'\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { out: ${JSON.stringify(out)} } })\n`)
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } })
    const urls = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter((l) => l !== '') : []
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, urls }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const EVENT = '{"source":"mqtt","topic":"sensors/gh2/temperature","payload":{"value":80}}'
const bundleUrl = pathToFileURL(BUNDLE).href

test('bin.js runs the bundle, and the sandbox thread the bundled worker', () => {
  const r = traced(['invoke', 'examples/threshold-alarm', '--event', EVENT])
  assert.is(r.code, 0, r.stderr)
  assert.equal(JSON.parse(r.stdout), { where: 'gh2', value: 80, hot: true })
  assert.ok(r.urls.includes(new URL('cli.js', bundleUrl).href), 'dist/bundle/cli.js loaded')
  assert.ok(r.urls.includes(new URL('worker.js', bundleUrl).href), 'dist/bundle/worker.js loaded')
  const modules = r.urls.filter((u) => u.startsWith(pathToFileURL(path.join(ROOT, 'dist')).href) && !u.startsWith(bundleUrl) && !u.endsWith('/cli/bin.js'))
  // bin.js's own imports (the runtime plan, the log format) are the only modules tsc wrote that load.
  assert.ok(modules.every((u) => /\/dist\/(cli|device\/config|src)\/[\w-]+(\/[\w-]+)?\.js$/.test(u) && !u.includes('/sandbox/')), modules.join('\n'))
})

test('LAMBKIN_BUNDLE=off runs the modules tsc wrote, with the same output', () => {
  const on = traced(['invoke', 'examples/threshold-alarm', '--event', EVENT])
  const off = traced(['invoke', 'examples/threshold-alarm', '--event', EVENT], { LAMBKIN_BUNDLE: 'off' })
  assert.is(off.code, 0, off.stderr)
  assert.is(off.stdout, on.stdout)
  assert.is(off.stderr, on.stderr)
  assert.not.ok(off.urls.some((u) => u.startsWith(bundleUrl)), 'nothing loaded from dist/bundle/')
  assert.ok(off.urls.some((u) => u.endsWith('/dist/src/sandbox/worker.js')), 'the worker tsc wrote')
})

test('every file or folder the bundle finds by import.meta.url exists', () => {
  const targets = new Set<string>()
  for (const name of readdirSync(BUNDLE).filter((n) => n.endsWith('.js'))) {
    const source = readFileSync(path.join(BUNDLE, name), 'utf8')
    for (const m of source.matchAll(/new URL\("([^"]+)",\s*import\.meta\.url\)/g)) targets.add(m[1])
  }
  // The worker, package.json, the migrations, the dashboard, the examples, bin.js at least.
  assert.ok(targets.size >= 6, [...targets].join(', '))
  const missing = [...targets].filter((t) => !existsSync(fileURLToPath(new URL(t, pathToFileURL(BUNDLE)))))
  assert.equal(missing, [])
})

test.run()

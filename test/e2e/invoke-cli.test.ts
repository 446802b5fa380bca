// `lambkin invoke` as a user runs it: a child process, exit codes, stdout and stderr.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../cli/bin.js', import.meta.url))
const ROOT = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)))

function lambkin (args: string[], env: Record<string, string> = {}): { code: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

function fn (source: string, manifest: Record<string, unknown> = {}): { dir: string, cleanup: () => void } {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-cli-'))
  const dir = path.join(root, 'f')
  mkdirSync(dir)
  writeFileSync(path.join(dir, 'function.json'), JSON.stringify({ name: 'f', ...manifest }))
  writeFileSync(path.join(dir, 'index.js'), source)
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) }
}

test('prints the result as JSON and exits 0; logs and publishes go to stderr', () => {
  const r = lambkin(['invoke', 'examples/threshold-alarm', '--event', '{"source":"mqtt","topic":"sensors/gh2/temperature","payload":{"value":80}}'])
  assert.is(r.code, 0, r.stderr)
  assert.equal(JSON.parse(r.stdout), { where: 'gh2', value: 80, hot: true })
  assert.match(r.stderr, '[publish qos1 retain] alarms/gh2')
  assert.match(r.stderr, '[info] alarm raised gh2 80')
})

test('reads the event from @file and seeds state with --state', () => {
  const f = fn('export default (e, ctx) => ({ got: e.x, count: (ctx.state.count ?? 0) + 1 })')
  try {
    writeFileSync(path.join(f.dir, 'event.json'), '{"x": 5}')
    const r = lambkin(['invoke', f.dir, '--event', `@${path.join(f.dir, 'event.json')}`, '--state', '{"count": 41}'])
    assert.is(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout), { got: 5, count: 42 })
  } finally { f.cleanup() }
})

test('a failing function prints CODE: message on stderr and exits 1', () => {
  const f = fn('export default () => { while (true) {} }')
  try {
    const r = lambkin(['invoke', f.dir, '--timeout', '100', '--instructions', '1000000000000'])
    assert.is(r.code, 1)
    assert.is(r.stdout, '')
    assert.match(r.stderr, /^LAMBKIN_TIMEOUT: /m)
  } finally { f.cleanup() }
})

test('--json prints one object on stdout for success and failure', () => {
  const f = fn('export default (e) => { if (e.fail) throw new Error("asked to"); return 7 }')
  try {
    const ok = lambkin(['invoke', f.dir, '--json'])
    assert.is(ok.code, 0)
    const o = JSON.parse(ok.stdout)
    assert.is(o.ok, true)
    assert.is(o.result, 7)
    const bad = lambkin(['invoke', f.dir, '--json', '--event', '{"fail":true}'])
    assert.is(bad.code, 1)
    const e = JSON.parse(bad.stdout)
    assert.is(e.ok, false)
    assert.is(e.error.code, 'LAMBKIN_FUNCTION_ERROR')
    assert.is(e.error.message, 'Error: asked to')
  } finally { f.cleanup() }
})

test('a bad manifest is LAMBKIN_MANIFEST_INVALID naming the key', () => {
  const f = fn('export default () => 1', { limits: { memoryKiB: 'lots' } })
  try {
    const r = lambkin(['invoke', f.dir])
    assert.is(r.code, 1)
    assert.match(r.stderr, /^LAMBKIN_MANIFEST_INVALID: function\.json:? "limits\.memoryKiB"/m)
  } finally { f.cleanup() }
})

test('bad usage exits 2 with a usage hint', () => {
  for (const args of [['invoke'], ['invoke', 'examples/hello', '--memory', '12'], ['invoke', 'examples/hello', '--event', '{oops'], ['nonsense']]) {
    const r = lambkin(args)
    assert.is(r.code, 2, args.join(' '))
    assert.match(r.stderr, 'usage')
  }
})

test('LAMBKIN_WASM_TRAP_HANDLER=off re-runs under the flag and still answers', () => {
  const r = lambkin(['invoke', 'examples/hello'], { LAMBKIN_WASM_TRAP_HANDLER: 'off' })
  assert.is(r.code, 0, r.stderr)
  assert.is(JSON.parse(r.stdout).message, 'hello, world')
})

test.run()

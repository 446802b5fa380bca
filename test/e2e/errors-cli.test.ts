// Errors that point, as a user meets them from the shell (docs/architecture.md, "Errors"): a
// bad function.json says what is wrong, a handler that does not parse names its line, an agent
// that loaded nothing and has no cloud stops, usage errors under --json are JSON, and a test
// hook that kills the agent is not offered in --help, and an API address that is some other
// web server says so. Each through a child process.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { runLambkin } from './fixtures/lambkin-process.js'

function folder (files: Record<string, string>): { root: string, at: (p: string) => string, cleanup: () => void } {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-errors-'))
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true })
    writeFileSync(path.join(root, p), text)
  }
  return { root, at: (p) => path.join(root, p), cleanup: () => rmSync(root, { recursive: true, force: true }) }
}

const GOOD = 'export default (event) => ({ ok: true })\n'

test('a trailing comma in function.json: the reason, with line and column', async () => {
  const t = folder({ 'f/function.json': '{\n  "name": "f",\n  "env": { "THRESHOLD": "70" },\n}\n', 'f/index.js': GOOD })
  try {
    const r = await runLambkin(['invoke', t.at('f')])
    assert.is(r.code, 1, r.stderr)
    assert.match(r.stderr, /^LAMBKIN_MANIFEST_INVALID: \S+function\.json is not valid JSON at line 4, column 1 \(position \d+\): trailing comma before '}'$/m)
    writeFileSync(t.at('f/function.json'), '{ name: "f" }')
    assert.match((await runLambkin(['invoke', t.at('f')])).stderr, /line 1, column 3 \(position 2\): unquoted key/)
  } finally {
    t.cleanup()
  }
})

test('a handler that does not parse: file:line:column, the line and a caret', async () => {
  const t = folder({
    'f/function.json': '{ "name": "f" }',
    'f/index.js': 'import { pick } from "./lib/pick.js"\nexport default (event) => pick(event)\n',
    'f/lib/pick.js': 'export function pick (e) {\n  const x = {\n    a: e.a\n    b: e.b\n  }\n  return x\n}\n'
  })
  try {
    const r = await runLambkin(['invoke', t.at('f')])
    assert.is(r.code, 1, r.stderr)
    assert.match(r.stderr, 'LAMBKIN_COMPILE_ERROR: function f does not parse: lib/pick.js:4:5: Unexpected token\n        b: e.b\n        ^\n')
    const j = await runLambkin(['invoke', t.at('f'), '--json'])
    const out = JSON.parse(j.stdout) as { ok: boolean, error: { code: string, details: Record<string, unknown> } }
    assert.equal(out.error.details, { file: 'lib/pick.js', line: 4, column: 5, reason: 'Unexpected token' })
  } finally {
    t.cleanup()
  }
})

test('an agent without a cloud whose every function failed to load exits 1 with each error and a code', async () => {
  const t = folder({
    'fns/a/function.json': '{ "name": "a", }',
    'fns/a/index.js': GOOD,
    'fns/b/function.json': '{ "name": "b" }',
    'fns/b/index.js': 'export default () => {\n'
  })
  try {
    const r = await runLambkin(['device', '--id', 'e2e-broken', '--data', t.at('data'), '--functions', t.at('fns')], { timeoutMs: 30_000 })
    assert.is(r.code, 1, r.stderr)
    assert.not.match(r.stdout, 'ready')
    assert.match(r.stderr, /function \S+fns\/a not loaded: LAMBKIN_MANIFEST_INVALID: .*trailing comma before '}'/)
    // Its source line and caret follow as lines of their own (a log line holds no newline).
    assert.match(r.stderr, /function \S+fns\/b not loaded: LAMBKIN_COMPILE_ERROR: function b does not parse: index\.js:2:1: Unexpected token\n {4}\n {4}\^\n/)
    assert.match(r.stderr, /^LAMBKIN_NO_FUNCTIONS_LOADED: none of the 2 functions in \S+fns loaded \(each error is above\); fix them and start again, or give --cloud/m)
  } finally {
    t.cleanup()
  }
})

test('usage errors under --json are one JSON object, for every command', async () => {
  const t = folder({ 'f/function.json': '{ "name": "f" }', 'f/index.js': GOOD })
  try {
    const cases: string[][] = [
      ['invoke', t.at('f'), '--json', '--timeout', 'soon'],
      ['invoke', t.at('f'), '--json', '--no-such-flag'],
      ['results', 'gh-01', '--limit', '99999', '--json'],
      ['results', '--json'],
      ['logs', 'gh-01', '--json', '--all', '-f'],
      ['status', '--json', '--wat'],
      ['outbox', '--json', '--limit', '0', '--data', t.at('data')],
      ['deploy', t.at('f'), '--json'],
      ['rollouts', '--json', '--limit', 'x']
    ]
    for (const args of cases) {
      const r = await runLambkin(args, { env: { LAMBKIN_TOKEN: 't' } })
      assert.is(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`)
      let out: { ok?: boolean, error?: { code?: string, message?: string } } = {}
      try { out = JSON.parse(r.stdout) } catch { assert.unreachable(`${args.join(' ')}: stdout is not one JSON object: ${r.stdout}`) }
      assert.is(out.ok, false)
      assert.is(out.error?.code, 'LAMBKIN_USAGE', args.join(' '))
      assert.type(out.error?.message, 'string')
      assert.not.match(r.stderr, 'LAMBKIN_USAGE', 'no text beside the JSON')
    }
    // Without --json, the same mistake is still the text and the usage.
    const plain = await runLambkin(['results', 'gh-01', '--limit', '99999'], { env: { LAMBKIN_TOKEN: 't' } })
    assert.is(plain.code, 2)
    assert.match(plain.stderr, /^LAMBKIN_USAGE: .*--limit must be an integer from 1 to 10000/m)
  } finally {
    t.cleanup()
  }
})

test('LAMBKIN_API that is not an http address is a usage error naming the variable', async () => {
  for (const api of ['mqtt://127.0.0.1:1883', 'http://']) {
    const r = await runLambkin(['status'], { env: { LAMBKIN_API: api, LAMBKIN_TOKEN: 't' } })
    assert.is(r.code, 2, r.stderr)
    assert.match(r.stderr, /^LAMBKIN_USAGE: LAMBKIN_API "[^"]+" is .*e\.g\. http:\/\/127\.0\.0\.1:8080/m)
  }
  const flag = await runLambkin(['status', '--api', 'mqtt://x'], { env: { LAMBKIN_TOKEN: 't' } })
  assert.match(flag.stderr, /^LAMBKIN_USAGE: --api "mqtt:\/\/x"/m)
})

test('LAMBKIN_API at a server that is not the operator API (a web page answering 200) is LAMBKIN_CLOUD_UNAVAILABLE saying so, not LAMBKIN_INTERNAL', async () => {
  const server = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>a router page</html>') })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    for (const args of [['status'], ['devices', 'add', 'zz'], ['results', 'gh-01'], ['rollouts']]) {
      const r = await runLambkin(args, { env: { LAMBKIN_API: api, LAMBKIN_TOKEN: 't' } })
      assert.is(r.code, 1, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /^LAMBKIN_CLOUD_UNAVAILABLE: .*not the lambkin operator API/m, args.join(' '))
    }
  } finally {
    server.close()
  }
})

test('LAMBKIN_API at a JSON API that is not lambkin\'s (200 with JSON of another shape) is LAMBKIN_CLOUD_UNAVAILABLE saying so, not LAMBKIN_INTERNAL', async () => {
  // Seen in the field: another service's health route on the port given as --api, answering every path.
  for (const body of ['{"status":"ok"}', '[]', 'null', '"up"', '{"devices":"all"}', '{"rollouts":{}}']) {
    const server = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body) })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      for (const args of [['status'], ['devices'], ['devices', 'add', 'zz'], ['results', 'gh-01'], ['rollouts'], ['rollout', 'status', 'r1'], ['metrics', 'gh-01'], ['logs', 'gh-01']]) {
        const r = await runLambkin(args, { env: { LAMBKIN_API: api, LAMBKIN_TOKEN: 't' } })
        assert.is(r.code, 1, `${body} ${args.join(' ')}: ${r.stdout}${r.stderr}`)
        assert.match(r.stderr, /^LAMBKIN_CLOUD_UNAVAILABLE: .*not the lambkin operator API/m, `${body} ${args.join(' ')}`)
      }
    } finally {
      server.close()
    }
  }
})

test('device --help does not offer the test hook that makes the agent kill itself', async () => {
  const r = await runLambkin(['device', '--help'])
  assert.is(r.code, 0)
  assert.match(r.stdout, 'LAMBKIN_CLOUD_PASSWORD')
  assert.not.match(r.stdout + r.stderr, 'LAMBKIN_TEST_CRASH_AT')
  assert.not.match(r.stdout + r.stderr, 'kills itself')
})

test.run()

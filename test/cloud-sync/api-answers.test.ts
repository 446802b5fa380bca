// The operator API answers every refusal in one shape, `{ error: { code, message } }` with a
// code from src/errors.ts: its routes', Fastify's own (no route, a path part over
// maxParamLength, a content type, a body too large or not JSON) and Node's below it (a body that
// stops arriving, headers too large, bytes that are not HTTP); a slow body is cut, not kept for
// ever; a remote-invoke event nested past the data limit is a usage error; HTTPS with the CLI
// trusting a private CA; a loud warning for an API beyond loopback.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ErrorCodes } from '../../src/errors.js'
import { startCloud } from '../helpers/cloud.js'
import { runLambkin } from '../e2e/fixtures/lambkin-process.js'

const CODES = new Set<string>(Object.values(ErrorCodes))

function shaped (body: unknown, what: string): string {
  const e = (body as { error?: { code?: unknown, message?: unknown } }).error
  assert.ok(e !== undefined && typeof e.code === 'string' && CODES.has(e.code) && typeof e.message === 'string' && e.message.length > 0, `${what}: ${JSON.stringify(body)}`)
  assert.equal(Object.keys(body as object), ['error'], what)
  return e.code as string
}

/** Writes raw bytes and reads the whole answer until the server closes (bounded by the test's own timer). */
async function raw (port: number, bytes: string, boundMs = 10_000): Promise<{ status: number, body: unknown }> {
  return await new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1')
    let out = ''
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`still open after ${boundMs} ms: ${out}`)) }, boundMs)
    s.setEncoding('utf8').on('data', (d: string) => { out += d })
    s.on('error', () => {})
    s.on('close', () => {
      clearTimeout(timer)
      const m = /^HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n([^]*)$/.exec(out)
      if (m === null) { reject(new Error(`no HTTP answer: ${JSON.stringify(out)}`)); return }
      resolve({ status: Number(m[1]), body: JSON.parse(m[2]) })
    })
    s.write(bytes)
  })
}

test('Fastify\'s and Node\'s own refusals answer in the API\'s error shape with a known code', async () => {
  const f = await startCloud()
  try {
    const auth = { authorization: `Bearer ${f.token}` }
    const base = f.cloud.api.url
    const cases: Array<[string, number, Promise<Response>]> = [
      ['no such route', 404, fetch(`${base}/v1/nope`, { headers: auth })],
      ['no such method', 404, fetch(`${base}/v1/devices`, { method: 'DELETE', headers: auth })],
      ['a path part over maxParamLength', 414, fetch(`${base}/v1/devices/${'a'.repeat(300)}`, { headers: auth })],
      ['a text body', 415, fetch(`${base}/v1/devices`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'gh-01' })],
      ['a content type with no parser', 415, fetch(`${base}/v1/devices`, { method: 'POST', headers: { ...auth, 'content-type': 'application/xml' }, body: '<id/>' })],
      ['a body over the limit', 413, fetch(`${base}/v1/devices`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'x'.repeat(70_000) }) })],
      ['a body that is not JSON', 400, fetch(`${base}/v1/devices`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"id":' })],
      ['a body naming __proto__', 400, fetch(`${base}/v1/devices`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"id":"a","__proto__":{"admin":true}}' })],
      ['an empty JSON body', 400, fetch(`${base}/v1/devices`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '' })],
      ['headers over the size limit', 431, fetch(`${base}/v1/devices?q=${'a'.repeat(20_000)}`, { headers: auth })],
      ['no token', 401, fetch(`${base}/v1/devices`)]
    ]
    for (const [what, status, p] of cases) {
      const r = await p
      assert.is(r.status, status, what)
      const code = shaped(await r.json(), what)
      if (status === 404) assert.is(code, 'LAMBKIN_ROUTE_NOT_FOUND', what)
    }
    const garbage = await raw(f.cloud.api.port, 'NOT HTTP AT ALL\r\n\r\n')
    assert.is(garbage.status, 400)
    shaped(garbage.body, 'bytes that are not HTTP')
  } finally {
    await f.cleanup()
  }
})

test('a request body that stops arriving is answered 408 in the error shape and closed, not kept open', async () => {
  const f = await startCloud({ apiRequestTimeoutMs: 500 })
  try {
    const slow = await raw(f.cloud.api.port, `POST /v1/devices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${f.token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"id":`)
    assert.is(slow.status, 408)
    assert.is(shaped(slow.body, 'a slow body'), 'LAMBKIN_REQUEST_INVALID')
    // A long-poll is not a slow request: it arrived whole, and its answer may take its time.
    await f.addDevice('quiet')
    const r = await f.api<{ records: unknown[] }>('GET', '/v1/devices/quiet/records?after=0&wait=1500')
    assert.is(r.status, 200)
    assert.equal(r.body.records, [])
  } finally {
    await f.cleanup()
  }
})

test('a remote-invoke event nested 2,000 deep is a usage error (400 LAMBKIN_REQUEST_INVALID), not an offline device', async () => {
  const f = await startCloud()
  try {
    const c = await f.connect('board', await f.addDevice('board'))
    let event: unknown = {}
    for (let i = 0; i < 2000; i++) event = { e: event }
    const r = await f.api<{ error: { code: string, message: string } }>('POST', '/v1/devices/board/invoke', { fn: 'f', event })
    assert.is(r.status, 400)
    assert.is(r.body.error.code, 'LAMBKIN_REQUEST_INVALID')
    assert.match(r.body.error.message, /^event nests deeper than 1000 levels/)
    c.end(true)
  } finally {
    await f.cleanup()
  }
})

test('the API over HTTPS: the CLI talks to it with NODE_EXTRA_CA_CERTS, and says what to do without it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-api-tls-'))
  const cert = path.join(dir, 'cert.pem')
  const key = path.join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
  const f = await startCloud({ apiTls: { certFile: cert, keyFile: key } })
  try {
    assert.match(f.cloud.api.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    const env = { LAMBKIN_API: f.cloud.api.url, LAMBKIN_TOKEN: f.token }
    const trusted = await runLambkin(['devices', 'add', 'over-tls', '--json'], { env: { ...env, NODE_EXTRA_CA_CERTS: cert } })
    assert.is(trusted.code, 0, trusted.stderr)
    const status = await runLambkin(['status', '--json'], { env: { ...env, NODE_EXTRA_CA_CERTS: cert } })
    assert.is(status.code, 0, status.stderr)
    assert.match(status.stdout, /"over-tls"/)
    const untrusted = await runLambkin(['status'], { env })
    assert.is(untrusted.code, 1)
    assert.match(untrusted.stderr, /^LAMBKIN_CLOUD_UNAVAILABLE: .*certificate this machine does not trust.*NODE_EXTRA_CA_CERTS/)
  } finally {
    await f.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an API beyond loopback starts with a loud warning; on loopback, none', async () => {
  for (const [apiHost, warned] of [['0.0.0.0', true], ['127.0.0.1', false]] as const) {
    const lines: string[] = []
    const f = await startCloud({ apiHost, log: (l) => lines.push(l) })
    try {
      const w = lines.filter((l) => l.startsWith('WARNING: the operator API listens on'))
      assert.is(w.length, warned ? 1 : 0, apiHost)
      if (warned) assert.match(w[0], /0\.0\.0\.0.*--api-tls-cert/)
    } finally {
      await f.cleanup()
    }
  }
})

test.run()

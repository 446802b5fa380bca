// The dashboard's routes on a real cloud (aedes, LevelDB, Fastify) with MQTT.js devices: the
// page's files without a token and with caching headers, everything else behind the token, the
// event stream's one-use tickets, and the fleet, series and history a device's frames produce.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { gunzipSync } from 'node:zlib'
import type { FleetChange, FleetView, SeriesView } from '../../../cloud-sync/api/dashboard-types.js'
import { encodeFrame, upTopic } from '../../../src/wire/index.js'
import { startCloud } from '../../helpers/cloud.js'
import type { CloudFixture } from '../../helpers/cloud.js'

/** Reads server-sent events from a fetch body until `until` says stop (or the time runs out). */
async function events (
  res: Response,
  until: (e: { event: string; data: unknown }) => boolean,
  timeoutMs = 10_000
): Promise<Array<{ event: string; data: unknown }>> {
  const seen: Array<{ event: string; data: unknown }> = []
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const timer = setTimeout(() => {
    void reader.cancel()
  }, timeoutMs)
  let text = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return seen
      text += Buffer.from(value).toString('utf8')
      let cut: number
      while ((cut = text.indexOf('\n\n')) !== -1) {
        const block = text.slice(0, cut)
        text = text.slice(cut + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event === undefined || data === undefined) continue
        seen.push({ event, data: JSON.parse(data) })
        if (until(seen[seen.length - 1])) return seen
      }
    }
  } finally {
    clearTimeout(timer)
    await reader.cancel().catch(() => {})
  }
}

const raw = async (f: CloudFixture, path: string, headers: Record<string, string> = {}): Promise<Response> => await fetch(`${f.cloud.api.url}${path}`, { headers })

test('the page and its hashed files need no token; index.html is never cached, assets are immutable and gzipped', async () => {
  const f = await startCloud()
  try {
    const index = await raw(f, '/')
    assert.is(index.status, 200)
    assert.is(index.headers.get('cache-control'), 'no-cache')
    assert.match(index.headers.get('content-security-policy') ?? '', /script-src 'self'/)
    const html = await index.text()
    const js = /src="\.\/assets\/(main-[A-Z0-9]+\.js)"/.exec(html)?.[1]
    assert.ok(js !== undefined, html)
    const asset = await raw(f, `/assets/${js}`, { 'accept-encoding': 'gzip' })
    assert.is(asset.status, 200)
    assert.is(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable')
    assert.match(asset.headers.get('content-type') ?? '', /javascript/)
    assert.ok((await asset.arrayBuffer()).byteLength > 10_000)
    assert.is((await raw(f, '/assets/main-NOPE.js')).status, 404)
    // Nothing past the static files is public.
    for (const path of ['/v1/fleet', '/assets/../v1/status', '/v1/events/ticket', '/index.html/../v1/devices']) {
      const r = await raw(f, path)
      assert.ok(r.status === 401 || r.status === 404, `${path}: ${r.status}`)
      assert.not.match(await r.text(), /"devices"/)
    }
  } finally {
    await f.cleanup()
  }
})

test('GET /v1/fleet needs the token and is gzipped when large', async () => {
  const f = await startCloud()
  try {
    for (let i = 0; i < 60; i++) await f.addDevice(`sim-${String(i).padStart(3, '0')}`, i % 2 === 0 ? 'even' : 'odd')
    const wrong = await f.api<{ error: { code: string } }>('GET', '/v1/fleet', undefined, 'not-the-token')
    assert.is(wrong.status, 401)
    assert.is(wrong.body.error.code, 'LAMBKIN_UNAUTHORIZED')
    const res = await fetch(`${f.cloud.api.url}/v1/fleet`, { headers: { authorization: `Bearer ${f.token}`, 'accept-encoding': 'gzip' } })
    assert.is(res.status, 200)
    const view = await res.json() as FleetView
    assert.is(view.devices.length, 60)
    assert.is(view.summary.devices.neverSeen, 60)
    assert.equal(view.devices.find((d) => d.id === 'sim-001')?.group, 'odd')
    // Node's fetch unzips by itself; ask again raw to see the encoding.
    const http = await import('node:http')
    const encoding = await new Promise<string | undefined>((resolve, reject) => {
      http.get(`${f.cloud.api.url}/v1/fleet`, { headers: { authorization: `Bearer ${f.token}`, 'accept-encoding': 'gzip' } }, (r) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
          assert.is((JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()) as FleetView).devices.length, 60)
          resolve(r.headers['content-encoding'])
        })
      }).on('error', reject)
    })
    assert.is(encoding, 'gzip')
  } finally {
    await f.cleanup()
  }
})

test('an event ticket works for one connect; the stream says hello, then a device going online', async () => {
  const f = await startCloud()
  try {
    const secret = await f.addDevice('gh-01', 'greenhouse')
    assert.is((await f.api('POST', '/v1/events/ticket', {}, 'wrong')).status, 401)
    const { ticket } = (await f.api<{ ticket: string, expiresInMs: number }>('POST', '/v1/events/ticket', {})).body
    assert.is((await raw(f, '/v1/events?ticket=made-up')).status, 401)
    assert.is((await raw(f, '/v1/events')).status, 401)
    const stream = await raw(f, `/v1/events?ticket=${encodeURIComponent(ticket)}`)
    assert.is(stream.status, 200)
    assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/)
    const spent = await raw(f, `/v1/events?ticket=${encodeURIComponent(ticket)}`)
    assert.is(spent.status, 401)
    assert.match(JSON.stringify(await spent.json()), /spent, expired or unknown/)

    const seen = events(stream, (e) => e.event === 'fleet' && (e.data as FleetChange).devices.some((d) => d.id === 'gh-01' && d.state === 'online'))
    const c = await f.connect('gh-01', secret)
    await c.publishAsync(upTopic('gh-01', 'status'), encodeFrame({ state: 'online', agent: '9.9.9', functions: [{ name: 'thermo', version: 'a'.repeat(16) }], heartbeatMs: 1000 }), { qos: 1, retain: true })
    const got = await seen
    assert.is(got[0].event, 'hello')
    const last = got[got.length - 1].data as FleetChange
    const row = last.devices.find((d) => d.id === 'gh-01')
    assert.is(row?.agent, '9.9.9')
    assert.equal(row?.functions.map((x) => x.name), ['thermo'])
    // The bearer token also opens the stream, for clients that can send headers.
    const bearer = await raw(f, '/v1/events', { authorization: `Bearer ${f.token}` })
    assert.is(bearer.status, 200)
    await bearer.body?.cancel()
  } finally {
    await f.cleanup()
  }
})

test('a device\'s metric snapshots become its series and its errors in the last hour', async () => {
  const f = await startCloud()
  try {
    await f.addDevice('gh-01')
    const now = Date.now()
    const snap = (seq: number, errors: number): { seq: number, kind: 'metric', time: number, data: unknown } => ({
      seq, kind: 'metric', time: now, data: { v: 1, kind: 'delta', from: now - 60_000 + seq, to: now + seq, bucketsSeconds: [0.01, 0.1], functions: { thermo: { invocations: 10, errors: errors === 0 ? {} : { LAMBKIN_FUNCTION_ERROR: errors }, memoryHighWaterBytes: 5_000_000, durationSeconds: { counts: [10, 0, 0], max: 0.004 } } }, series: [] }
    })
    await f.cloud.registry.ingest('gh-01', { records: [snap(1, 0), snap(2, 3), { seq: 3, kind: 'log', fn: 'thermo', time: now, data: { lines: [] } }], gaps: [] }, now)
    const s = await f.api<SeriesView>('GET', '/v1/devices/gh-01/series')
    assert.is(s.status, 200)
    assert.equal(s.body.functions.thermo.invocations, [10, 10])
    assert.equal(s.body.functions.thermo.errorRate, [0, 30])
    const fleet = await f.api<FleetView>('GET', '/v1/fleet')
    assert.is(fleet.body.devices[0].errorsHour, 3)
    assert.is(fleet.body.devices[0].invocationsHour, 20)
    assert.is(fleet.body.summary.perMinute.invocations, 4)
    assert.is((await f.api('GET', '/v1/devices/nobody/series')).status, 404)
    const h = await f.api<{ history: unknown[], reported: unknown }>('GET', '/v1/devices/gh-01/deployments')
    assert.equal(h.body, { device: 'gh-01', reported: null, desiredDeploymentId: null, history: [] })
  } finally {
    await f.cleanup()
  }
})

test.run()

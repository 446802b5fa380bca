// [W2][W8] No input a device sends makes an API route answer 500: record data a JSON API cannot
// show is refused at ingest with a counted reason (src/wire/record-data.ts), data stored before
// that check (or damaged on disk) reads back as a placeholder, and device times no Date can
// hold are shown as sent. A real cloud (aedes, LevelDB, Fastify), a real MQTT.js client as the
// device, and the operator commands run in-process against the API.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Encoder } from 'cbor-x'
import { decodeFrame, downTopic, parseAck, parseBatch, upTopic } from '../../src/wire/index.js'
import { nextMessage, startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import { array, batchFrame, embedded, float, nested, nil, obj, tag, text, uint, uint64, undef } from '../helpers/cbor-craft.js'
import type { Item } from '../helpers/cbor-craft.js'
import { logsCommand, resultsCommand } from '../../cli/commands/records.js'
import { metricsCommand } from '../../cli/commands/metrics.js'
import { statusCommand } from '../../cli/commands/status.js'

/** Data a device may send that a JSON API cannot answer with, and the reason it is refused for. */
const REFUSED: Array<[string, Item, string]> = [
  ['a 64-bit integer beyond 2^53', uint64(2n ** 64n - 1n), 'data-integer'],
  ['a negative integer beyond -2^53', Buffer.concat([Buffer.from([0x3b]), Buffer.from('0020000000000001', 'hex')]), 'data-integer'],
  ['a circular value (tags 28/29)', tag(28, obj({ self: tag(29, uint(0)) })), 'data-shared'],
  ['a value shared twice (tags 28/29)', array([tag(28, array([uint(1)])), tag(29, uint(0)), tag(29, uint(0))]), 'data-shared'],
  ['an unknown tag', obj({ x: tag(99, text('?')) }), 'data-tag'],
  ['a date (tag 1)', tag(1, uint(1_700_000_000)), 'data-tag'],
  ['a set (tag 258)', tag(258, array([uint(1)])), 'data-tag'],
  ['a map with integer keys (tag 259)', tag(259, Buffer.from([0xa1, 0x01, 0x02])), 'data-tag'],
  ['a RegExp (tag 27)', tag(27, array([text('RegExp'), text('(a+)+$')])), 'data-tag'],
  ['a float64 typed array (tag 86)', tag(86, Buffer.concat([Buffer.from([0x48]), Buffer.alloc(8)])), 'data-tag'],
  ['nesting 1,200 deep', nested(1200), 'data-depth'],
  ['nesting 50,000 deep (past the decoder)', nested(50_000), 'malformed']
]

/** The ack without its `embedded` flag, which every ack of this cloud carries [W4]. */
function ackOf (b: Buffer): { seq: number, rejected?: string } {
  const { embedded, ...ack } = parseAck(decodeFrame(b, 1024))
  assert.is(embedded, true)
  return ack
}

async function send (f: CloudFixture, c: Awaited<ReturnType<CloudFixture['connect']>>, id: string, frame: Buffer): Promise<{ seq: number, rejected?: string }> {
  const ack = nextMessage(c, downTopic(id, 'ack'))
  await c.publishAsync(upTopic(id, 'batch'), frame, { qos: 1 })
  return ackOf(await ack)
}

/** Every read an operator has, by API and by command; each must answer. */
async function readEverything (f: CloudFixture, id: string): Promise<Array<{ seq: number, time: number, data: unknown }>> {
  for (const route of [`/v1/devices/${id}/records?limit=100`, `/v1/devices/${id}/records?kind=log`, `/v1/devices/${id}/metrics`, `/v1/devices/${id}`, '/v1/status', '/v1/devices']) {
    const r = await f.api('GET', route)
    assert.is(r.status, 200, `${route}: ${JSON.stringify(r.body)}`)
  }
  const flags = ['--api', f.cloud.api.url, '--token', f.token]
  for (const [name, run, args] of [['results', resultsCommand, [id]], ['logs', logsCommand, [id]], ['metrics', metricsCommand, [id]], ['status', statusCommand, []]] as const) {
    for (const json of [[], ['--json']]) {
      let err = ''
      const code = await run([...args, ...flags, ...json], { stdout: () => {}, stderr: (s) => { err += s } })
      assert.is(code, 0, `lambkin ${name} ${json.join('')}: ${err}`)
    }
  }
  return (await f.api<{ records: Array<{ seq: number, time: number, data: unknown }> }>('GET', `/v1/devices/${id}/records?limit=100`)).body.records
}

test('[W2][W8] data JSON cannot show is refused with a counted reason, nothing of its batch is stored, and every read still answers', async () => {
  const f = await startCloud()
  try {
    const c = await f.connect('hostile', await f.addDevice('hostile'))
    for (const [what, data, reason] of REFUSED) {
      const a = await send(f, c, 'hostile', batchFrame([{ seq: 1, data: obj({ ok: uint(1) }) }, { seq: 2, data }]))
      assert.equal(a, { seq: 0, rejected: reason }, what)
    }
    // Refused batches left nothing behind; the device's next plain batch is taken as usual.
    assert.equal(await send(f, c, 'hostile', batchFrame([{ seq: 1, data: obj({ ok: uint(1) }) }])), { seq: 1 })
    const st = await f.api<{ cloud: { ingest: { rejected: Record<string, number> } } }>('GET', '/v1/status')
    assert.equal(st.body.cloud.ingest.rejected, { 'data-integer': 2, 'data-shared': 2, 'data-tag': 6, 'data-depth': 1, malformed: 1 })
    const recs = await readEverything(f, 'hostile')
    assert.equal(recs.map((r) => r.data), [{ ok: 1 }])
    assert.ok(c.connected)
  } finally {
    await f.cleanup()
  }
})

test('[W2] what JSON can show is taken: a small integer in 8 bytes, undefined, NaN, bytes, nesting of 1,000, and a device time of 1e16', async () => {
  const f = await startCloud()
  try {
    const c = await f.connect('odd', await f.addDevice('odd'))
    const frame = batchFrame([
      { seq: 1, data: obj({ n: uint64(5n), big: uint64(2n ** 53n - 1n) }) },
      { seq: 2, data: obj({ gone: undef, nan: float(NaN), none: nil, bin: Buffer.from([0x42, 1, 2]) }) },
      { seq: 3, data: nested(1000) },
      { seq: 4, time: float(1e16), data: obj({ result: text('from a clock far ahead') }) },
      { seq: 5, kind: 'log', fn: 'f', time: float(1e16), data: obj({ lines: array([obj({ level: text('info'), time: float(-1e17), msg: text('a line') })]) }) },
      { seq: 6, kind: 'metric', data: obj({ kind: text('delta'), functions: obj({ f: obj({ invocations: uint64(3n), errors: obj({ X: float(Infinity) }) }) }) }) }
    ])
    assert.equal(await send(f, c, 'odd', frame), { seq: 6 })
    const recs = await readEverything(f, 'odd')
    const by = new Map(recs.map((r) => [r.seq, r]))
    assert.equal(by.get(1)?.data, { n: 5, big: 2 ** 53 - 1 })
    assert.equal(by.get(2)?.data, { nan: null, none: null, bin: { type: 'Buffer', data: [1, 2] } })
    assert.is(by.get(4)?.time, 1e16)
    let out = ''
    await resultsCommand(['odd', '--api', f.cloud.api.url, '--token', f.token], { stdout: (s) => { out += s }, stderr: () => {} })
    // SEQ, TIME, FUNCTION, VERSION (none recorded here), KIND, RESULT.
    assert.match(out, /^4\s+\?10000000000000000\s+-\s+-\s+result\s+"from a clock far ahead"/m)
    out = ''
    await logsCommand(['odd', '--api', f.cloud.api.url, '--token', f.token], { stdout: (s) => { out += s }, stderr: () => {} })
    assert.match(out, /^\?-100000000000000000 \[f\] info a line$/m)
  } finally {
    await f.cleanup()
  }
})

test('[W4][W8] data embedded as CBOR (tag 24) is stored as sent; garbage, deep nesting or lying lengths inside are refused with a stable reason and store nothing', async () => {
  const f = await startCloud()
  try {
    const c = await f.connect('emb', await f.addDevice('emb'))
    const plain = new Encoder({ useRecords: false, mapsAsObjects: true })
    const refused: Array<[string, Item, string]> = [
      ['garbage bytes', embedded(Buffer.from([0x1c, 0xde, 0xad, 0xbe, 0xef])), 'data-malformed'],
      ['an item cut short', embedded(plain.encode({ a: 'long enough' }).subarray(0, 6)), 'data-malformed'],
      ['two items', embedded(Buffer.concat([uint(1), uint(2)])), 'data-malformed'],
      ['an array claiming 2^32 items', embedded(Buffer.from([0x9a, 0xff, 0xff, 0xff, 0xff, 0x01])), 'data-malformed'],
      ['nesting 1,001 deep', embedded(nested(1001)), 'data-depth'],
      ['nesting 100,000 deep', embedded(nested(100_000)), 'data-depth'],
      ['a 64-bit integer beyond 2^53', embedded(uint64(2n ** 64n - 1n)), 'data-integer'],
      ['value sharing inside', embedded(tag(28, obj({ self: tag(29, uint(0)) }))), 'data-tag'],
      ['tag 24 around a map, not bytes', tag(24, obj({ a: uint(1) })), 'data-tag']
    ]
    for (const [what, data, reason] of refused) {
      const a = await send(f, c, 'emb', batchFrame([{ seq: 1, data: embedded(plain.encode({ ok: 1 })) }, { seq: 2, data }]))
      assert.equal(a, { seq: 0, rejected: reason }, what)
    }
    assert.equal(await readEverything(f, 'emb'), [])
    // Embedded and decoded data side by side, and a frame of the older shape after it.
    assert.equal(await send(f, c, 'emb', batchFrame([{ seq: 1, data: embedded(plain.encode({ ok: 1 })) }, { seq: 2, data: obj({ ok: uint(2) }) }])), { seq: 2 })
    assert.equal(await send(f, c, 'emb', batchFrame([{ seq: 3, data: obj({ ok: uint(3) }) }])), { seq: 3 })
    assert.equal((await readEverything(f, 'emb')).map((r) => [r.seq, r.data]), [[3, { ok: 3 }], [2, { ok: 2 }], [1, { ok: 1 }]])
    const st = await f.api<{ cloud: { ingest: { rejected: Record<string, number> } } }>('GET', '/v1/status')
    assert.equal(st.body.cloud.ingest.rejected, { 'data-malformed': 4, 'data-depth': 2, 'data-integer': 1, 'data-tag': 2 })
    assert.ok(c.connected)
  } finally {
    await f.cleanup()
  }
})

test('[W8] records stored before ingest checked data, or damaged on disk, read back as placeholders, never as a 500', async () => {
  const f = await startCloud()
  try {
    await f.addDevice('old')
    // What ingest stored before this check: the frame's own bytes, kept as they came.
    const raw = batchFrame([
      { seq: 1, data: obj({ big: uint64(2n ** 64n - 1n) }) },
      { seq: 2, data: tag(28, obj({ self: tag(29, uint(0)) })) },
      { seq: 3, kind: 'metric', data: obj({ kind: text('delta'), functions: tag(28, obj({ f: tag(29, uint(0)) })) }) },
      { seq: 4, data: obj({ n: uint64(7n) }) }
    ])
    const plain = new Encoder({ useRecords: false, mapsAsObjects: true })
    const frame = plain.decode(raw) as Record<string, unknown>
    const b = { ...parseBatchUnchecked(frame) }
    await f.cloud.registry.ingest('old', { records: b.records, gaps: [], raw }, Date.now())
    // A chunk whose bytes no longer decode (a damaged disk), stored as the frame ingest kept.
    await f.cloud.registry.ingest('old', { records: [{ seq: 5, kind: 'result', time: Date.now(), data: null }], gaps: [], raw: Buffer.from([0xbf, 0x61]) }, Date.now())
    const recs = await readEverything(f, 'old')
    const by = new Map(recs.map((r) => [r.seq, r.data]))
    assert.match(String((by.get(1) as { unreadable?: string }).unreadable), /^data-integer: /)
    assert.match(String((by.get(2) as { unreadable?: string }).unreadable), /^data-shared: /)
    assert.equal(by.get(4), { n: 7 })
    assert.match(String((by.get(5) as { unreadable?: string }).unreadable), /cannot be decoded/)
    const results = await f.api<{ records: Array<{ seq: number, kind: string, data: { unreadable?: string } }> }>('GET', '/v1/devices/old/records?kind=result,dead-letter')
    assert.equal(results.body.records.map((r) => [r.seq, r.kind]), [[5, 'result'], [4, 'result'], [2, 'result'], [1, 'result']])
  } finally {
    await f.cleanup()
  }
})

/** The records of a frame as ingest took them before data was checked (parseBatch minus that check). */
function parseBatchUnchecked (frame: Record<string, unknown>): ReturnType<typeof parseBatch> {
  const records = frame.records as Array<Record<string, unknown>>
  const safe = records.map((r) => ({ ...r, data: null }))
  const b = parseBatch({ ...frame, records: safe })
  return { ...b, records: b.records.map((r, i) => ({ ...r, data: records[i].data })) }
}

test.run()

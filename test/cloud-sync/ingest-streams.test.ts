// Outbox streams at the cloud [W4], with real aedes, LevelDB and Fastify driven by MQTT.js
// clients speaking the wire as a board would: a new stream from a known device is new data, the
// same seq with other bytes is a conflict shown in `lambkin status`, a frame without a stream
// is the legacy stream, a gap may not run ahead of its batch, takeovers are counted.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeFrame, encodeFrame, parseAck, upTopic, downTopic } from '../../src/wire/index.js'
import type { AckFrame } from '../../src/wire/index.js'
import { statusCommand } from '../../cli/commands/status.js'
import { devicesCommand } from '../../cli/commands/devices.js'
import { nextMessage, startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import type { MqttClient } from 'mqtt'

const S1 = '0123456789abcdef'
const S2 = 'fedcba9876543210'
const records = (from: number, to: number, tag = 'a'): unknown[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, kind: 'result', fn: 'f', time: 1_700_000_000_000 + from + i, data: { n: from + i, tag } }))

/** Publishes one batch and resolves with the ack it got. */
async function send (c: MqttClient, frame: Record<string, unknown>): Promise<AckFrame> {
  const ack = nextMessage(c, downTopic('gh-01', 'ack'))
  await c.publishAsync(upTopic('gh-01', 'batch'), encodeFrame(frame), { qos: 1 })
  // Every ack of this cloud says it takes embedded data [W4]; the cases compare the rest.
  const { embedded, ...rest } = parseAck(decodeFrame(await ack, 1024))
  assert.is(embedded, true)
  return rest
}

interface View {
  state: string
  streams: number
  stream: string | null
  highWater: number
  counts: { stored: number; duplicates: number }
  conflict: { count: number; seq: number; stream: string } | null
  takeovers: { count: number; recent: number }
  problems: string[]
}
const view = async (f: CloudFixture): Promise<View> => (await f.api<View>('GET', '/v1/devices/gh-01')).body

async function status (f: CloudFixture): Promise<string> {
  let out = ''
  const code = await statusCommand(['--api', f.cloud.api.url, '--token', f.token], { stdout: (s) => { out += s }, stderr: (s) => { out += s } })
  assert.is(code, 0, out)
  return out
}

test('[W4] a frame without a stream is the legacy stream; a new stream from the same device is new data, logged once and counted', async () => {
  const lines: string[] = []
  const f = await startCloud({ log: (l) => lines.push(l) })
  try {
    const c = await f.connect('gh-01', await f.addDevice('gh-01'))
    assert.equal(await send(c, { records: records(1, 3) }), { seq: 3 })
    // A board whose store is new (re-flashed card, data moved aside) starts at seq 1 again.
    assert.equal(await send(c, { stream: S1, batchId: 7, records: records(1, 2, 'new') }), { seq: 2, stream: S1, batchId: 7 })
    assert.equal(await send(c, { stream: S1, batchId: 8, records: records(3, 3, 'new') }), { seq: 3, stream: S1, batchId: 8 })
    const all = (await f.api<{ records: Array<{ stream: string, seq: number, data: { tag: string } }> }>('GET', '/v1/devices/gh-01/records?after=0&stream=legacy')).body.records
    assert.equal(all.map((r) => [r.stream, r.seq, r.data.tag]), [['legacy', 1, 'a'], ['legacy', 2, 'a'], ['legacy', 3, 'a'], [S1, 1, 'new'], [S1, 2, 'new'], [S1, 3, 'new']])
    const v = await view(f)
    assert.equal([v.streams, v.stream, v.highWater, v.counts.stored, v.counts.duplicates], [2, S1, 3, 6, 0])
    assert.equal(lines.filter((l) => l.includes('new outbox stream')), [`device gh-01: new outbox stream ${S1} (its stream number 2): its seqs start again, from a new store (a re-flashed card, a data folder moved aside, a rebuilt store); stored as new data [W4]`])
    const stats = (await f.api<{ cloud: { ingest: { newStreams: number } } }>('GET', '/v1/status')).body.cloud.ingest
    assert.is(stats.newStreams, 1)
    assert.match(await status(f), /STREAMS[\s\S]*gh-01\s+online.*\s2\n/)
  } finally {
    await f.cleanup()
  }
})

test('[W4] the same seq with other bytes is refused as a conflict, counted, and shown in status with what to do', async () => {
  const lines: string[] = []
  const f = await startCloud({ log: (l) => lines.push(l) })
  try {
    const c = await f.connect('gh-01', await f.addDevice('gh-01'))
    await send(c, { stream: S1, batchId: 1, records: records(1, 5, 'board-a') })
    // The same records again are duplicates, acked as before.
    assert.equal(await send(c, { stream: S1, batchId: 2, records: records(1, 5, 'board-a') }), { seq: 5, stream: S1, batchId: 2 })
    // A clone's records under the same seqs: refused, no cursor move.
    assert.equal(await send(c, { stream: S1, batchId: 3, records: records(4, 9, 'board-b') }), { seq: 5, stream: S1, batchId: 3, rejected: 'conflict' })
    const stored = (await f.api<{ records: Array<{ seq: number, data: { tag: string } }> }>('GET', '/v1/devices/gh-01/records?limit=100')).body.records
    assert.equal(stored.map((r) => [r.seq, r.data.tag]), [[5, 'board-a'], [4, 'board-a'], [3, 'board-a'], [2, 'board-a'], [1, 'board-a']])
    const v = await view(f)
    assert.is(v.state, 'conflict')
    assert.equal([v.conflict?.count, v.conflict?.seq, v.conflict?.stream], [1, 4, S1])
    assert.match(v.problems.join('\n'), /LAMBKIN_STREAM_CONFLICT.*two boards are using this id.*lambkin devices add/)
    assert.is((await f.api<{ cloud: { ingest: { conflicts: number } } }>('GET', '/v1/status')).body.cloud.ingest.conflicts, 1)
    assert.is(lines.filter((l) => l.includes('LAMBKIN_STREAM_CONFLICT')).length, 1, lines.join('\n'))
    const out = await status(f)
    assert.match(out, /gh-01\s+conflict/)
    assert.match(out, /gh-01: LAMBKIN_STREAM_CONFLICT: .*Give the clone its own id \(lambkin devices add <new-id>\)/)
    // The first board goes on: its next records are taken.
    assert.equal(await send(c, { stream: S1, batchId: 4, records: records(6, 7, 'board-a') }), { seq: 7, stream: S1, batchId: 4 })
  } finally {
    await f.cleanup()
  }
})

test('[W4] lambkin devices clear-conflict: the device no longer shows conflict; a clone still sending shows it again; hostile ids are not found', async () => {
  const f = await startCloud()
  try {
    const c = await f.connect('gh-01', await f.addDevice('gh-01'))
    await send(c, { stream: S1, batchId: 1, records: records(1, 5, 'board-a') })
    const clone = { stream: S1, batchId: 2, records: records(4, 6, 'board-b') }
    assert.is((await send(c, clone)).rejected, 'conflict')
    assert.is((await view(f)).state, 'conflict')
    const cli = async (...args: string[]): Promise<{ code: number, out: string }> => {
      let out = ''
      const code = await devicesCommand([...args, '--api', f.cloud.api.url, '--token', f.token], { stdout: (s) => { out += s }, stderr: (s) => { out += s } })
      return { code, out }
    }
    const cleared = await cli('clear-conflict', 'gh-01')
    assert.is(cleared.code, 0, cleared.out)
    assert.match(cleared.out, new RegExp(`^device gh-01: conflict cleared \\(1 batch of outbox stream ${S1} refused from .* seq 4 differing\\); if both boards still run, the next refused batch shows it again\n$`))
    let v = await view(f)
    assert.equal([v.state, v.conflict, v.problems], ['online', null, []])
    assert.is(v.counts.stored, 5, 'the records stay')
    assert.equal(JSON.parse((await cli('clear-conflict', 'gh-01', '--json')).out), { id: 'gh-01', cleared: null })
    assert.match((await cli('clear-conflict', 'gh-01')).out, /^device gh-01 holds no conflict\n$/)
    // Both boards still run: the clone's next batch is refused again and the device shows it.
    assert.is((await send(c, { ...clone, batchId: 3 })).rejected, 'conflict')
    v = await view(f)
    assert.equal([v.state, v.conflict?.count], ['conflict', 1])
    for (const id of ['nope', 'constructor', '__proto__', 'Bad%20Id']) {
      const r = await f.api<{ error: { code: string } }>('POST', `/v1/devices/${id}/clear-conflict`)
      assert.equal([r.status, r.body.error.code], [404, 'LAMBKIN_DEVICE_NOT_FOUND'], id)
    }
    assert.is((await f.api('POST', '/v1/devices/gh-01/clear-conflict', undefined, 'wrong')).status, 401)
    assert.is((await view(f)).state, 'conflict', 'refused calls changed nothing')
  } finally {
    await f.cleanup()
  }
})

test('[W4][W8] a gap declared beyond the batch, up to 2^53-1, is refused and later records are still stored', async () => {
  const f = await startCloud()
  try {
    const c = await f.connect('gh-01', await f.addDevice('gh-01'))
    await send(c, { stream: S2, batchId: 1, records: records(1, 2) })
    const refused = await send(c, { stream: S2, batchId: 2, records: records(3, 3), gaps: [{ from: 4, to: Number.MAX_SAFE_INTEGER, reason: 'dropped' }] })
    assert.equal(refused, { seq: 2, stream: S2, batchId: 2, rejected: 'gap-unbounded' })
    assert.equal(await send(c, { stream: S2, batchId: 3, records: records(3, 4) }), { seq: 4, stream: S2, batchId: 3 })
    assert.is((await view(f)).counts.stored, 4)
  } finally {
    await f.cleanup()
  }
})

test('takeovers of a device\'s connection are counted and, repeated, shown as two clients sharing the id', async () => {
  const lines: string[] = []
  const f = await startCloud({ log: (l) => lines.push(l) })
  try {
    const secret = await f.addDevice('gh-01')
    for (let i = 0; i < 4; i++) await f.connect('gh-01', secret, { clean: false })
    let v = await view(f)
    for (let i = 0; i < 100 && v.takeovers.count < 3; i++) { await new Promise((resolve) => setTimeout(resolve, 20)); v = await view(f) }
    assert.equal([v.takeovers.count, v.takeovers.recent], [3, 3])
    assert.match(v.problems.join('\n'), /two clients share this id: 3 takeovers/)
    const out = await status(f)
    assert.match(out, /gh-01: two clients share this id/, out)
    assert.ok(lines.some((l) => l.includes('took over the open one')), lines.join('\n'))
    assert.is((await f.api<{ cloud: { takeovers: number } }>('GET', '/v1/status')).body.cloud.takeovers, 3)
  } finally {
    await f.cleanup()
  }
})

test.run()

// Every shipped example, run in the real sandbox (the pool `lambkin invoke` and the agent use)
// with the events its triggers bring, its results, publishes, emits and state asserted.
// The fan controller and the request/reply example also run in a real agent: one on a
// sysfs-style file as its thermal zone, the other on Mosquitto over MQTT 5 (request/reply in
// examples-agent.test.ts).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadFunctionDir } from '../../src/function/index.js'
import { SandboxPool, specOf } from '../../src/sandbox/index.js'
import type { Outcome, OutcomeOk } from '../../src/sandbox/index.js'

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url))
const test = suite<{ pool: SandboxPool }>('examples', { pool: undefined as unknown as SandboxPool })
test.before(async (ctx) => { ctx.pool = await SandboxPool.create({ workers: 1, spares: 0, deviceId: 'gh-01' }) })
test.after(async (ctx) => { await ctx.pool.close() })

/** Loads an example and calls it with each event in turn, handing ctx.state on as the agent does. */
async function run (pool: SandboxPool, name: string, events: Array<Record<string, unknown>>, state?: unknown): Promise<Outcome[]> {
  const key = await pool.load({ ...specOf(await loadFunctionDir(path.join(EXAMPLES, name))), provisioned: 0 })
  const out: Outcome[] = []
  for (const event of events) {
    const o = await pool.invoke(key, { time: 1_800_000_000_000, ...event }, { state })
    if (o.ok && o.stateChanged) state = o.state
    out.push(o)
  }
  return out
}

function ok (o: Outcome): OutcomeOk {
  if (!o.ok) assert.unreachable(`${o.error.code}: ${o.error.message}`)
  return o as OutcomeOk
}

const mqtt = (topic: string, payload: unknown): Record<string, unknown> => ({ source: 'mqtt', topic, payload, qos: 1, retain: false })

test('hello greets whoever the event names', async ({ pool }) => {
  const [o] = await run(pool, 'hello', [{ source: 'invoke', name: 'Ada' }])
  assert.equal(ok(o).result, { message: 'hello, Ada', device: 'gh-01' })
})

test('threshold-alarm raises an alarm once when crossing THRESHOLD and clears it when back under', async ({ pool }) => {
  const outs = await run(pool, 'threshold-alarm', [mqtt('sensors/gh1/temperature', { value: 72 }), mqtt('sensors/gh1/temperature', 75), mqtt('sensors/gh1/temperature', { value: 64 })])
  assert.equal(outs.map((o) => ok(o).result), [{ where: 'gh1', value: 72, hot: true }, { where: 'gh1', value: 75, hot: true }, { where: 'gh1', value: 64, hot: false }])
  assert.equal(outs.map((o) => ok(o).publishes.map((p) => [p.topic, (p.payload as { state: string }).state, p.retain])), [[['alarms/gh1', 'raised', true]], [], [['alarms/gh1', 'cleared', true]]])
})

test('rolling-average keeps the last WINDOW readings per room in ctx.state', async ({ pool }) => {
  const readings = Array.from({ length: 12 }, (_, i) => mqtt('sensors/office/co2', { value: 400 + 10 * i }))
  const outs = await run(pool, 'rolling-average', [...readings, mqtt('sensors/lab/co2', 900)])
  // The last 10 of 400..510: 420..510, mean 465; another room starts its own window.
  assert.equal(ok(outs[11]).result, { where: 'office', value: 510, average: 465, n: 10 })
  assert.equal(ok(outs[0]).result, { where: 'office', value: 400, average: 400, n: 1 })
  assert.equal(ok(outs[12]).result, { where: 'lab', value: 900, average: 900, n: 1 })
  assert.equal((ok(outs[12]).state as { windows: Record<string, number[]> }).windows.office, [420, 430, 440, 450, 460, 470, 480, 490, 500, 510])
  const [bad] = await run(pool, 'rolling-average', [mqtt('sensors/office/co2', 'high')])
  assert.is(bad.ok ? '' : bad.error.code, 'LAMBKIN_FUNCTION_ERROR')
})

test('heartbeat counts its runs in ctx.state, emits each beat, and notes a late one', async ({ pool }) => {
  const at = 1_800_000_000_000
  const outs = await run(pool, 'heartbeat', [
    { source: 'schedule', scheduledTime: at, late: false },
    { source: 'schedule', scheduledTime: at + 10_000, late: true }
  ], { beats: 41 })
  assert.equal(outs.map((o) => ok(o).result), [42, 43])
  assert.equal(ok(outs[1]).emits, [{ beat: 43, scheduledTime: at + 10_000, late: true }])
  assert.match(ok(outs[1]).logs[0].msg, `caught up a run missed at ${new Date(at + 10_000).toISOString()}`)
})

test('room-average averages a batch per room with the stats layer', async ({ pool }) => {
  const records = [['greenhouse', 70], ['greenhouse', 72.5], ['office', 40]].map(([room, v], i) => ({ topic: `sensors/${room as string}/humidity`, payload: v, qos: 1, time: i }))
  const [o] = await run(pool, 'room-average', [{ source: 'mqtt', records }])
  assert.equal(ok(o).result, { greenhouse: { mean: 71.25, n: 2 }, office: { mean: 40, n: 1 } })
})

test('anomaly-zscore learns a baseline, flags a reading Z standard deviations off, and keeps it out of the baseline', async ({ pool }) => {
  // A machine vibrating at 1.00 +- 0.05 for 30 readings, then a spike, then normal again.
  const normal = Array.from({ length: 30 }, (_, i) => mqtt('sensors/press-1/vibration', { value: 1 + 0.05 * Math.sin(i * 1.7) }))
  const outs = await run(pool, 'anomaly-zscore', [...normal, mqtt('sensors/press-1/vibration', { value: 1.6 }), mqtt('sensors/press-1/vibration', 1.02)])
  assert.ok(outs.slice(0, 30).every((o) => ok(o).publishes.length === 0 && !(ok(o).result as { anomaly: boolean }).anomaly), 'normal readings are not anomalies')
  const spike = ok(outs[30])
  assert.is((spike.result as { anomaly: boolean }).anomaly, true)
  assert.is(spike.publishes.length, 1)
  const alert = spike.publishes[0]
  assert.is(alert.topic, 'anomalies/press-1')
  assert.ok((alert.payload as { z: number }).z > 10, JSON.stringify(alert.payload))
  assert.is(spike.stateChanged, false, 'the anomaly is not folded into the baseline')
  assert.is((ok(outs[31]).result as { anomaly: boolean }).anomaly, false)
  assert.is((ok(outs[31]).state as Record<string, { n: number }>)['press-1'].n, 31)
  // Before MIN_SAMPLES readings nothing is judged.
  const early = await run(pool, 'anomaly-zscore', [mqtt('sensors/new/vibration', 1), mqtt('sensors/new/vibration', 1.01), mqtt('sensors/new/vibration', 50)])
  assert.ok(early.every((o) => ok(o).publishes.length === 0))
})

test('batch-aggregator emits one summary per meter for a batch, across a counter reset, skipping junk', async ({ pool }) => {
  const r = (meter: string, kwh: number, w: number, time: number): Record<string, unknown> => ({ topic: `meters/${meter}/energy`, payload: { kwh, w }, qos: 1, time })
  const records = [
    r('m1', 100, 500, 1), r('m2', 7, 100, 2), r('m1', 100.5, 700, 3), r('m1', 0.25, 600, 4), r('m2', 7.1, 300, 5),
    { topic: 'meters/m3/energy', payload: 'garbled', qos: 1, time: 6 }
  ]
  const [o] = await run(pool, 'batch-aggregator', [{ source: 'mqtt', records }])
  assert.equal(ok(o).result, { records: 6, skipped: 1, meters: 2 })
  assert.equal(ok(o).emits, [
    { kind: 'energy-summary', meter: 'm1', readings: 3, usedKwh: 0.75, minW: 500, maxW: 700, from: 1, to: 4, meanW: 600 },
    { kind: 'energy-summary', meter: 'm2', readings: 2, usedKwh: 0.1, minW: 100, maxW: 300, from: 2, to: 5, meanW: 200 }
  ])
})

/** CRC-16/MODBUS written apart from the example's, and checked against the standard's check value. */
function crc (bytes: number[]): number[] {
  let c = 0xffff
  for (const b of bytes) {
    c ^= b
    for (let k = 0; k < 8; k++) c = (c & 1) === 1 ? (c >>> 1) ^ 0xa001 : c >>> 1
  }
  return [...bytes, c & 0xff, c >>> 8]
}

test('modbus-decoder decodes RTU responses, checks their CRC, and names exceptions', async ({ pool }) => {
  // The CRC catalogue's check value for CRC-16/MODBUS over "123456789" is 0x4B37; and the
  // textbook request 01 03 00 00 00 0A ends in C5 CD.
  assert.equal(crc([...Buffer.from('123456789')]).slice(-2), [0x37, 0x4b])
  assert.equal(crc([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a]).slice(-2), [0xc5, 0xcd])
  const frame = (bytes: number[]): Record<string, unknown> => ({ source: 'mqtt', topic: 'modbus/gw-1/rtu', payloadBase64: Buffer.from(bytes).toString('base64'), qos: 1, retain: false })
  const good = crc([0x11, 0x03, 0x04, 0x00, 0xe6, 0x01, 0xf4])
  const corrupt = [...good]
  corrupt[4] ^= 0x01
  const outs = await run(pool, 'modbus-decoder', [frame(good), frame(crc([0x11, 0x83, 0x02])), frame(corrupt), frame([0x11, 0x03])])
  assert.equal(ok(outs[0]).result, { slave: 17, function: 3, registers: [230, 500] })
  assert.equal(ok(outs[0]).publishes.map((p) => [p.topic, p.payload]), [['modbus/gw-1/decoded', { slave: 17, function: 3, registers: [230, 500] }]])
  assert.equal(ok(outs[1]).result, { slave: 17, function: 3, exception: 2, reason: 'illegal data address' })
  for (const [o, why] of [[outs[2], /CRC mismatch: the frame says 0x[0-9a-f]{4}, its bytes give 0x[0-9a-f]{4}/], [outs[3], /at least 5 bytes, got 2/]] as const) {
    assert.is(o.ok, false)
    if (!o.ok) { assert.is(o.error.code, 'LAMBKIN_FUNCTION_ERROR'); assert.match(o.error.message, why) }
  }
})

test('fan-controller switches with hysteresis: on at ON_C, off at OFF_C, unchanged between', async ({ pool }) => {
  const t = (value: number): Record<string, unknown> => ({ source: 'sensor', sensor: 'soc', value, raw: value * 1000 })
  const outs = await run(pool, 'fan-controller', [t(60), t(66), t(60), t(56), t(55), t(64.9), t(65)])
  assert.equal(outs.map((o) => (ok(o).result as { on: boolean }).on), [false, true, true, true, false, false, true])
  assert.equal(outs.map((o) => ok(o).publishes.map((p) => (p.payload as { on: boolean }).on)), [[false], [true], [], [], [false], [], [true]])
  assert.equal(ok(outs[1]).publishes[0], { topic: 'fans/soc/set', payload: { on: true, temperature: 66 }, qos: 1, retain: true })
})

test('request-reply answers on the response topic with the request\'s correlation data', async ({ pool }) => {
  const request = { ...mqtt('rpc/gh-01/dew-point', { temperature: 20, humidity: 50 }), responseTopic: 'replies/client-7', correlationData: 'AQID/w==' }
  const [o, bare, bad] = await run(pool, 'request-reply', [request, mqtt('rpc/gh-01/dew-point', { temperature: 20, humidity: 50 }), { ...request, payload: { temperature: 20 } }])
  // 20 °C at 50 % gives a dew point of 9.3 °C.
  assert.equal(ok(o).result, { dewPoint: 9.3 })
  assert.equal(ok(o).publishes, [{ topic: 'replies/client-7', payload: { dewPoint: 9.3 }, qos: 1, retain: false, correlationData: 'AQID/w==' }])
  assert.equal(ok(bare).publishes, [])
  assert.match(ok(bare).logs[0].msg, 'nothing to reply to')
  assert.match((ok(bad).publishes[0].payload as { error: string }).error, 'send {')
})

test.run()

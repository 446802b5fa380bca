// bench/relay's floor of the guarantees: the cheapest relay that keeps lambkin's promises for
// the threshold job, built from the same parts (MQTT.js, quickjs-emscripten on a worker thread,
// LevelDB through `level`, CBOR through cbor-x) and no lambkin code.
// `node floor-relay.js <url> <dir>`: QoS 1 in on bench/in/+; each event-loop turn's messages go
// in one postMessage to one sandbox thread (floor-worker.js), its results and an outbox entry per
// output publish in one LevelDB batch (synced every 200 ms, as the agent's store does); only then
// are the turn's PUBACKs sent and its publishes made at QoS 1, and each outbox entry is deleted on
// its PUBACK (one batch a turn). No processed-once marks, no upload, no metrics.
// FLOOR_INLINE=1 runs QuickJS on the main thread (no hop); FLOOR_NOCOMMIT=1 skips LevelDB;
// FLOOR_WRITES=lambkin writes what the agent's commit writes (floor-writes.ts); FLOOR_MQTT5=1
// speaks MQTT 5 as the agent's trigger link does (Receive Maximum 256, a session that does not
// expire, each publish with its W9 trace and hop as user properties); FLOOR_LINGER_MS=<ms> holds
// a turn open that long before its hand-over, so that more messages share one hop and one commit.
import { randomUUID } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { Encoder } from 'cbor-x'
import { Level } from 'level'
import mqtt from 'mqtt'
import { makeSandbox } from './floor-sandbox.js'
import type { Output } from './floor-sandbox.js'
import { lambkinWrites } from './floor-writes.js'

const [url, dir] = process.argv.slice(2)
const INLINE = process.env.FLOOR_INLINE === '1'
const NOCOMMIT = process.env.FLOOR_NOCOMMIT === '1'
const MQTT5 = process.env.FLOOR_MQTT5 === '1'
const LINGER_MS = Number(process.env.FLOOR_LINGER_MS ?? 0)
/** The agent's outbox.syncIntervalMs: commits are written unsynced, fsynced at most this late. */
const SYNC_INTERVAL_MS = 200

type Packet = { cmd: string, messageId?: number }
type Send = (packet: Packet, cb?: () => void, ...rest: unknown[]) => void
interface Out { key: string, topic: string, payload: string, qos: 0 | 1 }
/** One event-loop turn's messages, from their arrival to their PUBACKs. */
interface Turn { topics: string[], events: string[], ids: number[], acks: Packet[], results: string[], outputs: Out[], committed: boolean }

const fail = (err: unknown): never => { console.error(err); process.exit(1) }
// The store's encoder options (device/store/codec.ts).
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const writes = process.env.FLOOR_WRITES === 'lambkin' ? lambkinWrites(cbor) : undefined
const db = NOCOMMIT ? undefined : new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view', writeBufferSize: 4096 * 1024 })
await db?.open()
let dirty = false
const syncer = setInterval(() => {
  if (db === undefined || !dirty) return
  dirty = false
  db.put('y/synced', cbor.encode(Date.now()), { sync: true }).catch(fail)
}, SYNC_INTERVAL_MS)

/** Turns in the sandbox thread, in the order they were posted (it answers in that order). */
const inSandbox: Turn[] = []
/** Turns taken and not yet released, in arrival order: PUBACKs leave in this order. */
const inOrder: Turn[] = []
let worker: Worker | undefined
let call: (t: Turn) => void
if (INLINE) {
  const run = await makeSandbox()
  call = (t) => { t.results = t.events.map(run); commit(t) }
} else {
  const w = new Worker(new URL('./floor-worker.js', import.meta.url))
  await new Promise<void>((resolve, reject) => { w.once('message', () => resolve()); w.once('error', reject) })
  w.on('message', (results: string[]) => {
    const t = inSandbox.shift() as Turn
    t.results = results
    commit(t)
  })
  w.on('error', fail)
  call = (t) => { inSandbox.push(t); w.postMessage(t.events) }
  worker = w
}

let seq = 0
let pid = 0
const key = (prefix: string, n: number): string => prefix + String(n).padStart(16, '0')

/** Writes the turn's results and outbox entries in one batch, then releases what is due. */
function commit (t: Turn): void {
  const at = Date.now()
  const batch = db?.batch()
  for (let i = 0; i < t.events.length; i++) {
    const r = t.results[i]
    const outs = r === '' || r.startsWith('!') ? [] : JSON.parse(r) as Output[]
    const ok = !r.startsWith('!')
    const record = writes === undefined
      ? { fn: 'threshold', trigger: t.topics[i], at, ok, error: ok ? undefined : r.slice(1), published: outs.length }
      : writes.record(t.topics[i], at, ok, r)
    batch?.put(key('r/', ++seq), cbor.encode(record))
    if (writes !== undefined) batch?.put(writes.markKey(t.ids[i]), writes.mark(t.ids[i], t.topics[i], t.events[i]))
    for (const [topic, payload, qos] of outs) {
      const o: Out = { key: key('p/', ++pid), topic, payload, qos }
      batch?.put(o.key, writes === undefined ? cbor.encode({ topic, payload, qos }) : writes.publish(topic, payload, qos))
      t.outputs.push(o)
    }
  }
  if (writes !== undefined) batch?.put('y/counters', writes.counters(seq, pid))
  if (batch === undefined) { t.committed = true; release(); return }
  dirty = true
  batch.write().then(() => { t.committed = true; release() }, fail)
}

/** Sends the PUBACKs and publishes of the committed turns at the head, in arrival order. */
function release (): void {
  while (inOrder.length > 0 && inOrder[0].committed) {
    const t = inOrder.shift() as Turn
    for (const a of t.acks) send(a)
    for (const o of t.outputs) {
      const opts = MQTT5 ? { qos: o.qos, properties: hop() } : { qos: o.qos }
      client.publish(o.topic, o.payload, opts, (err) => { if (err === undefined || err === null) delivered(o.key) })
    }
  }
}

let removals: string[] = []
/** An output's PUBACK came: its outbox entry goes, with the others of this turn, in one batch. */
function delivered (k: string): void {
  if (db === undefined) return
  if (removals.length === 0) setImmediate(removeDelivered)
  removals.push(k)
}
function removeDelivered (): void {
  const batch = (db as NonNullable<typeof db>).batch()
  for (const k of removals) batch.del(k)
  removals = []
  dirty = true
  batch.write().catch(fail)
}

const trace = randomUUID()
/** device/links/hops.ts's user properties [W9]: the trace id and the hop count. */
const hop = (): { userProperties: Record<string, string> } => ({ userProperties: { 'lambkin-trace': trace, 'lambkin-hop': '1' } })
const v5 = { protocolVersion: 5, properties: { sessionExpiryInterval: 0xffff_ffff, receiveMaximum: 256 } } as const
const client = mqtt.connect(url, { clientId: 'bench-floor-relay', clean: false, ...(MQTT5 ? v5 : {}) })
// MQTT.js writes a QoS 1 message's PUBACK through _sendPacket right after its 'message' event,
// in the same tick (its customHandleAcks would instead hold every later packet until the
// commit: one message per commit). The PUBACK is kept with its turn until release().
const internals = client as unknown as { _sendPacket: Send }
const original = internals._sendPacket.bind(client)
const send = (p: Packet): void => { original(p) }
let turn: Turn | undefined
internals._sendPacket = (packet, cb, ...rest) => {
  if (packet.cmd !== 'puback' || turn === undefined) { original(packet, cb, ...rest); return }
  turn.acks.push(packet)
  cb?.()
}
client.on('message', (topic, payload, packet) => {
  if (turn === undefined) {
    turn = { topics: [], events: [], ids: [], acks: [], results: [], outputs: [], committed: false }
    inOrder.push(turn)
    const close = (): void => { const t = turn as Turn; turn = undefined; call(t) }
    if (LINGER_MS > 0) setTimeout(close, LINGER_MS)
    else setImmediate(close)
  }
  turn.topics.push(topic)
  turn.events.push(payload.toString())
  turn.ids.push(packet.messageId ?? 0)
})
await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject) })
await client.subscribeAsync('bench/in/+', { qos: 1 })
process.stdout.write('ready\n')
process.on('SIGTERM', () => {
  clearInterval(syncer)
  void client.endAsync().then(async () => { await worker?.terminate(); await db?.close() }).then(() => process.exit(0), fail)
})

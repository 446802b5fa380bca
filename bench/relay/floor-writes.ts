// FLOOR_WRITES=lambkin for the floor relay (floor-relay.ts): the values the agent's commit writes
// for the relay's message, in their shapes, so the floor's LevelDB batch holds what the agent's
// does: the result record's envelope (device/store/encode-unit.ts, device/invoke/commit-unit.ts),
// the publish as device/store/publish-value.ts stores it, a processed-once mark (a meta key per
// message, device/triggers/mqtt/processed-once.ts: packet id, a sha256 of topic and payload) and
// the store's counters once a batch. Written by hand from those files, none of them imported.
import { hash, randomUUID } from 'node:crypto'
import type { Encoder } from 'cbor-x'

/** processed-once.ts: marks kept per session, slot = packet id % SLOTS. */
const SLOTS = 1024

/** Encoders of the agent's values for one relay process. */
export interface LambkinWrites {
  record: (topic: string, at: number, ok: boolean, result: string) => unknown
  markKey: (packetId: number) => string
  mark: (packetId: number, topic: string, payload: string) => Uint8Array
  publish: (topic: string, payload: string, qos: 0 | 1) => Uint8Array
  counters: (records: number, publishes: number) => Uint8Array
}

/**
 * The agent's values for one relay process, encoded with `cbor` (the store's options): ids from
 * a random prefix and a counter as the pool makes them, marks in slot `packetId % 1024` of one
 * session and route, the counters' books as the ledger keeps them for one kind.
 */
export function lambkinWrites (cbor: Encoder): LambkinWrites {
  const prefix = randomUUID().slice(0, 24)
  const session = randomUUID().slice(0, 8)
  const connection = randomUUID().slice(0, 8)
  let calls = 0
  let marks = 0
  let bytes = 0
  return {
    record: (topic, at, ok, result) => {
      const id = `${prefix}${String(++calls).padStart(12, '0')}`
      return { t: at, d: { invocationId: id, traceId: id, version: 'sha256:0123456789abcdef', source: `mqtt:${topic}`, result: ok ? null : result, durationMs: 0.05, attempts: 1, retries: 0 }, f: 'threshold' }
    },
    markKey: (packetId) => `m/once:${session}:${packetId % SLOTS}:threshold/0`,
    mark: (packetId, topic, payload) => cbor.encode({ i: packetId, h: hash('sha256', `${topic}\n${payload}`, 'hex').slice(0, 16), k: connection, n: ++marks }),
    publish: (topic, payload, qos) => {
      const v = cbor.encode({ t: topic, p: payload, q: qos, r: false, h: 1, tr: `${prefix}${String(calls).padStart(12, '0')}`, f: 'threshold' })
      bytes += v.length
      return v
    },
    // The ledger's counters() (device/store/ledger.ts), its per-kind tables as the relay fills them.
    counters: (records, publishes) => cbor.encode({
      lastSeq: records,
      lastPublishId: publishes,
      dropped: { result: 0, emit: 0, log: 0, dead: 0 },
      expired: 0,
      droppedPublishes: 0,
      books: { tally: { result: { n: records, bytes: records * 180 } }, cursor: records, publishes: { n: publishes, bytes }, publishCursor: publishes }
    })
  }
}

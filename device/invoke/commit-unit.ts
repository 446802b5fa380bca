// What one invocation's commit holds (invoker.ts): the result or dead letter, emits, logs, the
// new ctx.state and the durable QoS 1 publishes, and, once written, the publishes handed to the
// trigger broker and the record the invoker answers with. Pure: no store, no sandbox.
import type { Outcome, PublishRequest } from '../../src/sandbox/index.js'
import type { Hop } from '../links/hops.js'
import type { CommitUnit, MetaWrite, NewPublish, NewRecord } from '../store/index.js'
import { deadLetterEvent } from './dead-letter.js'
import type { InvocationRecord } from './types.js'

/** A publish handed to the trigger broker after the commit: a QoS 1 one with its store id, each with its hop [W9]. */
export type SentPublish = PublishRequest & { id?: number, hop?: Hop, fn?: string }

/** A commit about to be written: the unit, and the QoS 0 publishes that go once it is durable. */
export interface PlannedCommit {
  unit: CommitUnit & { records: NewRecord[], publishes: NewPublish[] }
  quick: PublishRequest[]
}

/** Encodes a function's publish payload as MQTT bytes: strings as they are, else JSON. */
function payloadBytes (p: unknown): string {
  return typeof p === 'string' ? p : JSON.stringify(p)
}

/**
 * The unit of outcome `o` of `fn` (run on `event` from `source`, `attempts` tries in all, at
 * `time` ms): a result with its emits, state and publishes, or a dead letter; its logs either way.
 * Durable publishes are stored with `hop` and `fn`, so one re-sent after a restart still counts
 * toward invocation.maxHops [W9]. `meta` is left for the caller to fill just before the write.
 */
export function planCommit (fn: string, event: Record<string, unknown>, source: string, o: Outcome, attempts: number, time: number, hop?: Hop): PlannedCommit {
  const records: NewRecord[] = []
  const durable: NewPublish[] = []
  const quick: PublishRequest[] = []
  const unit: PlannedCommit['unit'] = { records, meta: undefined as MetaWrite[] | undefined, state: undefined, publishes: durable }
  if (o.ok) {
    records.push({
      kind: 'result',
      fn,
      time,
      data: {
        invocationId: o.invocationId,
        traceId: o.traceId,
        version: o.version,
        source,
        result: o.result ?? null,
        durationMs: o.durationMs,
        attempts,
        retries: attempts - 1
      }
    })
    for (const e of o.emits) records.push({ kind: 'emit', fn, time, data: e })
    if (o.stateChanged) unit.state = [{ fn, value: o.state }]
    for (const p of o.publishes) {
      if (p.qos === 1) {
        const d: NewPublish = { topic: p.topic, payload: payloadBytes(p.payload), qos: 1, retain: p.retain, fn }
        if (hop !== undefined) d.hop = hop
        if (p.correlationData !== undefined) d.correlationData = p.correlationData
        if (p.responseTopic !== undefined) d.responseTopic = p.responseTopic
        durable.push(d)
      } else quick.push(p)
    }
  } else {
    records.push({
      kind: 'dead-letter',
      fn,
      time,
      data: {
        invocationId: o.invocationId,
        traceId: o.traceId,
        version: o.version,
        source,
        event: deadLetterEvent(event),
        error: o.error,
        attempts,
        retries: attempts - 1
      }
    })
  }
  if (o.logs.length > 0) records.push({ kind: 'log', fn, time, data: { invocationId: o.invocationId, lines: o.logs } })
  return { unit, quick }
}

/**
 * The publishes to hand over once `planned` is written, QoS 0 first, then the durable ones with
 * the store ids the commit gave them (`publishIds`, in order); undefined when there are none.
 * Built in one pass (this runs per message on the relay path): no intermediate arrays.
 */
export function sentPublishes (fn: string, planned: PlannedCommit, publishIds: number[], hop: Hop): SentPublish[] | undefined {
  const { quick } = planned
  const durable = planned.unit.publishes
  if (quick.length === 0 && durable.length === 0) return undefined
  const sent: SentPublish[] = []
  for (const p of quick) sent.push({ ...p, hop, fn })
  for (let i = 0; i < durable.length; i++) {
    const p = durable[i] as NewPublish
    const s: SentPublish = { topic: p.topic, payload: p.payload, qos: 1, retain: p.retain, id: publishIds[i], hop, fn }
    if (p.correlationData !== undefined) s.correlationData = p.correlationData
    if (p.responseTopic !== undefined) s.responseTopic = p.responseTopic
    sent.push(s)
  }
  return sent
}

/** The record the invoker answers with for a committed outcome (`attempts` tries in all). */
export function invocationRecord (fn: string, source: string, o: Outcome, attempts: number): InvocationRecord {
  const rec: InvocationRecord = o.ok
    ? { fn, source, ok: true, result: o.result, durationMs: o.durationMs, invocationId: o.invocationId, version: o.version, attempts }
    : {
        fn,
        source,
        ok: false,
        code: o.error.code,
        message: o.error.message,
        durationMs: o.durationMs,
        invocationId: o.invocationId,
        version: o.version,
        attempts
      }
  if (o.logs.length > 0) rec.logs = o.logs
  return rec
}

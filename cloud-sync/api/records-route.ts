// GET /v1/devices/:id/records: what a device's functions produced, newest first, paged back with
// a cursor, or followed forward after a (stream, seq) position [W4]. The cursor is this file's
// format alone: clients pass back the `next` they were given.
import type { FastifyInstance } from 'fastify'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { isValidId } from '../../src/ids.js'
import { isStreamId } from '../../src/wire/index.js'
import { LEGACY_STREAM } from '../registry/index.js'
import type { DeviceRow, RecordQuery, Registry, StoredRecord } from '../registry/index.js'
import type { StoreWatch } from '../coord/stored-notes.js'
import { bad, intParam } from './params.js'
import { recordView } from './views.js'

export interface RecordsRouteOptions {
  registry: Registry
  device: (id: string) => Promise<DeviceRow>
  kinds: (v: unknown) => RecordQuery['kinds']
  maxWaitMs: number
  closing: () => boolean
  /** Wakes a follower when the device's records were stored by any instance (coord/stored-notes.ts); without it, a follower polls every 250 ms. */
  watch?: (device: string) => StoreWatch
}

/** A follower's poll when nothing wakes it, ms. */
const POLL_MS = 250

/** A position to page back from: the last record of a page, as `<stream>:<seq>`. */
export function recordCursor (r: Pick<StoredRecord, 'stream' | 'seq'>): string {
  return `${r.stream}:${r.seq}`
}

export function parseRecordCursor (v: unknown): { stream: string, seq: number } | undefined {
  if (v === undefined || v === '') return undefined
  const m = typeof v === 'string' ? /^([^:]+):(\d{1,16})$/.exec(v) : null
  if (m === null || (m[1] !== LEGACY_STREAM && !isStreamId(m[1])) || !Number.isSafeInteger(Number(m[2]))) {
    throw bad('before must be a cursor as a page of records gives it in "next" (<stream>:<seq>)')
  }
  return { stream: m[1], seq: Number(m[2]) }
}

/**
 * A function name nothing of the device knows: not among the functions of its last status or
 * deployment report, and with no records stored. Says which it has, so a typo is seen at once.
 */
export async function unknownFunction (registry: Registry, d: DeviceRow, fn: string): Promise<LambkinError | undefined> {
  // Its last status and its last deployment report [W5] may each name functions the other does not yet.
  const reported = (await registry.getReported(d.id))?.functions ?? []
  const names = [...new Set([...(d.status?.functions ?? []), ...reported].map((f) => f.name))]
  if (names.includes(fn) || (await registry.records(d.id, { fn, limit: 1 })).length > 0) return undefined
  const has = names.length === 0 ? 'it has reported no functions yet (it sends them when it connects)' : `its functions: ${[...names].sort().join(', ')}`
  return new LambkinError(ErrorCodes.FUNCTION_NOT_FOUND, `device ${d.id} has no function "${fn}" and no records of one; ${has}`, { details: { device: d.id, fn, functions: names } })
}

export function registerRecordsRoute (app: FastifyInstance, o: RecordsRouteOptions): void {
  app.get('/v1/devices/:id/records', async (req) => {
    const { id } = req.params as { id: string }
    const d = await o.device(id)
    const q = req.query as Record<string, unknown>
    const fn = q.fn === undefined || q.fn === '' ? undefined : String(q.fn)
    if (fn !== undefined && !isValidId(fn)) throw bad('fn must be a function name')
    // [W4] `after` is a seq of `stream` (default: the device's current one); later streams follow it.
    const stream = q.stream === undefined || q.stream === '' ? undefined : String(q.stream)
    if (stream !== undefined && stream !== LEGACY_STREAM && !isStreamId(stream)) throw bad('stream must be a stream id (hex) or legacy')
    const before = parseRecordCursor(q.before)
    const limit = intParam(q.limit, 'limit', 1, 10_000) ?? 100
    const query: RecordQuery = { fn, kinds: o.kinds(q.kind), limit, afterSeq: intParam(q.after, 'after', 0, Number.MAX_SAFE_INTEGER), stream, before }
    if (before !== undefined && query.afterSeq !== undefined) throw bad('give before or after, not both')
    const wait = Math.min(intParam(q.wait, 'wait', 0, 60_000) ?? 0, o.maxWaitMs)
    // Following a log: with `after` and `wait`, answer as soon as something newer is stored.
    const until = Date.now() + wait
    // Watching from before the first read: a store noted while it runs is not missed.
    const watch = query.afterSeq !== undefined && wait > 0 ? o.watch?.(id) : undefined
    try {
      for (;;) {
        const records = await o.registry.records(id, query)
        if (records.length > 0 || Date.now() >= until || query.afterSeq === undefined || o.closing()) {
          if (records.length === 0 && fn !== undefined && query.afterSeq === undefined && before === undefined) {
            const unknown = await unknownFunction(o.registry, d, fn)
            if (unknown !== undefined) throw unknown
          }
          // Newest first, a full page: there may be more before its last record.
          const next = query.afterSeq === undefined && records.length === limit ? recordCursor(records[records.length - 1]) : null
          return { records: records.map(recordView), next }
        }
        if (watch !== undefined) await watch.next(until - Date.now())
        else await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, until - Date.now())))
      }
    } finally {
      watch?.close()
    }
  })
}

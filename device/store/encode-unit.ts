// A commit unit encoded for LevelDB's write lane (level-store.ts): each record, state, publish
// and meta value as CBOR bytes, checked against the whole quota, so nothing queued can fail on
// a caller's value. Split from level-store.ts, unchanged.
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { encodeNamed } from './codec.js'
import type { StoredRecord } from './codec.js'
import type { Expiry } from './expiry.js'
import type { EncodedUnit } from './level-plan.js'
import { encodePublish } from './publish-value.js'
import type { StoreOptions } from './options.js'
import type { CommitUnit } from './types.js'

/**
 * `unit` as bytes. Throws LAMBKIN_STORE_FULL when one record, or the unit's publishes together,
 * are larger than the whole quota (nothing of the unit is written), and LAMBKIN_STORE_ERROR when
 * a value cannot be encoded (codec.ts).
 */
export function encodeUnit (unit: CommitUnit, opts: Pick<StoreOptions, 'quotaBytes' | 'ttlMs'>, expiry: Expiry): EncodedUnit {
  const records = (unit.records ?? []).map((r, i) => {
    const ttl = r.ttlMs ?? opts.ttlMs[r.kind] ?? 0
    // Built in its final shape (t, d, f: the same bytes), not grown a field at a time.
    const stored: StoredRecord = r.fn === undefined ? { t: r.time, d: r.data } : { t: r.time, d: r.data, f: r.fn }
    if (ttl > 0) Object.assign(stored, expiry.stamp(ttl))
    const value = encodeNamed(stored, 'records[', i, '].data')
    if (value.length > opts.quotaBytes) {
      throw new LambkinError(ErrorCodes.STORE_FULL, `records[${i}] (${r.kind}) is ${value.length} bytes encoded, more than the whole outbox quota of ${opts.quotaBytes} bytes; nothing of this commit was written. Make the record smaller or raise quotaBytes`, { details: { index: i, bytes: value.length, quotaBytes: opts.quotaBytes } })
    }
    return { kind: r.kind, value }
  })
  const publishes = (unit.publishes ?? []).map(encodePublish)
  const publishBytes = publishes.reduce((n, v) => n + v.length, 0)
  if (publishBytes > opts.quotaBytes) {
    // A commit's own publishes are never dropped for quota (quota.ts), so they must fit.
    throw new LambkinError(ErrorCodes.STORE_FULL, `the commit's ${publishes.length} QoS 1 publishes are ${publishBytes} bytes encoded, more than the whole outbox quota of ${opts.quotaBytes} bytes; nothing of this commit was written. Publish less per invocation or raise quotaBytes`, { details: { bytes: publishBytes, quotaBytes: opts.quotaBytes } })
  }
  return {
    records,
    state: (unit.state ?? []).map((s) => ({ fn: s.fn, value: s.value === null || s.value === undefined ? null : encodeNamed(s.value, 'state of ', s.fn) })),
    publishes,
    meta: (unit.meta ?? []).map((m) => ({ key: m.key, value: m.value === null || m.value === undefined ? null : encodeNamed(m.value, 'meta ', m.key) }))
  }
}

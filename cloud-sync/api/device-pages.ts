// The devices list in pages (docs/cloud.md, "Pages"): GET /v1/devices and GET /v1/status take
// `?limit=N&after=<id>` and answer at most N devices in id order (by code unit, the same on
// both registries) with `next`, the `after` of the page that follows, or null on the last page.
// Keyset, not offsets: a device added or revoked between two pages moves no other device
// across a boundary, so following `next` shows every device that existed throughout exactly once.
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { isValidId } from '../../src/ids.js'
import type { DeviceRow, Registry, ReportedRow } from '../registry/index.js'

export const DEVICE_PAGES = Object.freeze({
  /** Devices on a page when the request names no `limit` (about 260 KB of JSON). */
  defaultLimit: 500,
  /** The most a page may hold (`limit` above it is LAMBKIN_PAGE_LIMIT_INVALID): about 1 MB of JSON. */
  maxLimit: 2000
})

/** Which page: devices whose id sorts after `after` (from the first without it), at most `limit`. */
export interface DevicePageParams { after?: string, limit: number }

/** One page: the devices' views and the cursor of the next page (null: this was the last). */
export interface DevicePage<V> { devices: V[], next: string | null }

/** `s` quoted for a message: JSON escapes control characters, long ones are cut. */
const quoted = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s)

/**
 * The page a query asks for. `limit`: a whole number from 1 to DEVICE_PAGES.maxLimit, default
 * DEVICE_PAGES.defaultLimit (also when empty). `after`: a device id (ID_PATTERN; `next` always
 * is one), or empty for the first page; it need not exist any more. A parameter given twice is refused.
 * @throws LambkinError LAMBKIN_PAGE_LIMIT_INVALID, LAMBKIN_CURSOR_INVALID (both answered 400).
 */
export function devicePageParams (query: unknown): DevicePageParams {
  const q = (query ?? {}) as Record<string, unknown>
  const rawLimit = Object.hasOwn(q, 'limit') ? q.limit : undefined
  const rawAfter = Object.hasOwn(q, 'after') ? q.after : undefined
  let limit: number = DEVICE_PAGES.defaultLimit
  if (rawLimit !== undefined && rawLimit !== '') {
    const n = typeof rawLimit === 'string' && /^\d{1,9}$/.test(rawLimit) ? Number(rawLimit) : NaN
    if (!(n >= 1 && n <= DEVICE_PAGES.maxLimit)) {
      const got = typeof rawLimit === 'string' ? quoted(rawLimit) : 'it more than once'
      throw new LambkinError(ErrorCodes.PAGE_LIMIT_INVALID, `limit must be a whole number of devices from 1 to ${DEVICE_PAGES.maxLimit} (default ${DEVICE_PAGES.defaultLimit}); got ${got}`, { details: { param: 'limit', max: DEVICE_PAGES.maxLimit } })
    }
    limit = n
  }
  if (rawAfter === undefined || rawAfter === '') return { limit }
  if (!isValidId(rawAfter)) {
    const got = typeof rawAfter === 'string' ? quoted(rawAfter) : 'it more than once'
    throw new LambkinError(ErrorCodes.CURSOR_INVALID, `after must be a device id (the "next" of the page before: lower-case letters, digits, _ and -, starting with a letter or digit, at most 63 characters); got ${got}`, { details: { param: 'after' } })
  }
  return { after: rawAfter, limit }
}

/**
 * Reads one page: one more row than asked tells whether a page follows, and the page's reports
 * come in one read (not one per device). `view` makes each device's answer.
 */
export async function readDevicePage<V> (
  registry: Registry,
  p: DevicePageParams,
  view: (d: DeviceRow, reported: ReportedRow | undefined) => V
): Promise<DevicePage<V>> {
  const rows = await registry.listDevices({ after: p.after, limit: p.limit + 1 })
  const more = rows.length > p.limit
  const shown = more ? rows.slice(0, p.limit) : rows
  const reported = await registry.getReportedMany(shown.map((d) => d.id))
  return { devices: shown.map((d) => view(d, reported.get(d.id))), next: more ? shown[shown.length - 1].id : null }
}

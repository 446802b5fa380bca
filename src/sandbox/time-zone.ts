// Local date and time in a named IANA time zone, for ctx.time.parts(): QuickJS has no Intl,
// so the sandbox calls this host function (installed in instance.ts prepare()), which uses
// Node's Intl and its time zone database (src/wall-time.ts). A function that never calls it pays nothing.
import { wallAsUtc, wallParts, zoneFormatter } from '../wall-time.js'

/** What ctx.time.parts() returns (as JSON across the boundary). */
export interface ZonedParts {
  year: number
  /** 1-12 */
  month: number
  /** 1-31 */
  day: number
  /** 0-23 */
  hour: number
  minute: number
  second: number
  millisecond: number
  /** ISO 8601: 1 Monday ... 7 Sunday. */
  weekday: number
  /** Local time minus UTC in minutes at that instant (Europe/Berlin: 60 in winter, 120 in summer). */
  offsetMinutes: number
  /** The zone's canonical IANA name as Node's Intl reports it. */
  zone: string
}

/**
 * The local calendar parts of `epochMs` in `zone`, as a JSON object (ZonedParts), or a
 * message starting with something other than `{` when the zone is unknown or the instant
 * is out of range; the prelude throws that message as a RangeError inside the function.
 */
export function zonedPartsJson (zone: string, epochMs: number): string {
  if (!Number.isFinite(epochMs) || Math.abs(epochMs) > 8.64e15) return `ctx.time.parts: ${epochMs} is not a time (milliseconds since 1970-01-01 UTC)`
  const f = zoneFormatter(zone)
  if (f === undefined) return `ctx.time.parts: unknown time zone ${JSON.stringify(zone)}; use an IANA name such as "Europe/Berlin" or "UTC"`
  const ms = Math.floor(epochMs)
  const wall = wallParts(f, ms)
  const millisecond = ((ms % 1000) + 1000) % 1000
  const parts: ZonedParts = {
    year: wall.year,
    month: wall.month,
    day: wall.day,
    hour: wall.hour,
    minute: wall.minute,
    second: wall.second,
    millisecond,
    weekday: wall.weekday,
    offsetMinutes: Math.round((wallAsUtc(wall, millisecond) - ms) / 60_000),
    zone: f.resolvedOptions().timeZone
  }
  return JSON.stringify(parts)
}

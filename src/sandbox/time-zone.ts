// Local date and time in a named IANA time zone, for ctx.time.parts(): QuickJS has no Intl,
// so the sandbox calls this host function (installed in instance.ts prepare()), which uses
// Node's Intl and its time zone database. A function that never calls it pays nothing.

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

/** Formatters per zone name; the zones a board uses are few, so the cache is simply capped. */
const formatters = new Map<string, Intl.DateTimeFormat>()
const MAX_FORMATTERS = 64
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 }

function formatterFor (zone: string): Intl.DateTimeFormat | undefined {
  let f = formatters.get(zone)
  if (f !== undefined) return f
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short'
    })
  } catch {
    return undefined
  }
  if (formatters.size >= MAX_FORMATTERS) formatters.clear()
  formatters.set(zone, f)
  return f
}

/**
 * The local calendar parts of `epochMs` in `zone`, as a JSON object (ZonedParts), or a
 * message starting with something other than `{` when the zone is unknown or the instant
 * is out of range; the prelude throws that message as a RangeError inside the function.
 */
export function zonedPartsJson (zone: string, epochMs: number): string {
  if (!Number.isFinite(epochMs) || Math.abs(epochMs) > 8.64e15) return `ctx.time.parts: ${epochMs} is not a time (milliseconds since 1970-01-01 UTC)`
  const f = formatterFor(zone)
  if (f === undefined) return `ctx.time.parts: unknown time zone ${JSON.stringify(zone)}; use an IANA name such as "Europe/Berlin" or "UTC"`
  const ms = Math.floor(epochMs)
  const p: Record<string, string> = {}
  for (const part of f.formatToParts(ms)) p[part.type] = part.value
  const yearOfEra = Number(p.year)
  const year = p.era === 'BC' || p.era === 'B' ? 1 - yearOfEra : yearOfEra
  const millisecond = ((ms % 1000) + 1000) % 1000
  const parts: ZonedParts = {
    year,
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour),
    minute: Number(p.minute),
    second: Number(p.second),
    millisecond,
    weekday: WEEKDAYS[p.weekday] ?? 0,
    offsetMinutes: 0,
    zone: f.resolvedOptions().timeZone
  }
  // The offset is the local wall time read as if it were UTC, minus the instant itself.
  const asUtc = new Date(0)
  asUtc.setUTCFullYear(year, parts.month - 1, parts.day)
  asUtc.setUTCHours(parts.hour, parts.minute, parts.second, millisecond)
  parts.offsetMinutes = Math.round((asUtc.getTime() - ms) / 60_000)
  return JSON.stringify(parts)
}

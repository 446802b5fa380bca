// Wall time in a named IANA time zone, read from Node's Intl and its time zone database: the
// one reader behind ctx.time.parts() (src/sandbox/time-zone.ts), schedule offsets
// (device/triggers/schedule/zone.ts) and the manifest's timezone check (src/function/triggers.ts).

/** The local calendar fields of an instant in a zone, to the whole second. */
export interface WallParts {
  /** Astronomical year: 1 BC is 0, 2 BC is -1. */
  year: number
  /** 1-12 */
  month: number
  /** 1-31 */
  day: number
  /** 0-23 */
  hour: number
  minute: number
  second: number
  /** ISO 8601: 1 Monday ... 7 Sunday. */
  weekday: number
}

/** Formatters per zone name; the zones a board uses are few, so the cache is simply capped. */
const formatters = new Map<string, Intl.DateTimeFormat>()
const MAX_FORMATTERS = 64
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 }

/** The formatter that reads wall time in `zone`, or undefined when Intl does not know the zone. */
export function zoneFormatter (zone: string): Intl.DateTimeFormat | undefined {
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

/** True when Intl knows `zone` as an IANA time zone name. */
export function isKnownZone (zone: string): boolean {
  return zoneFormatter(zone) !== undefined
}

/** The wall time of `epochMs` (an integer) as `fmt` (from zoneFormatter) reads it. */
export function wallParts (fmt: Intl.DateTimeFormat, epochMs: number): WallParts {
  const p: Record<string, string> = {}
  for (const part of fmt.formatToParts(epochMs)) p[part.type] = part.value
  const yearOfEra = Number(p.year)
  return {
    year: p.era === 'BC' || p.era === 'B' ? 1 - yearOfEra : yearOfEra,
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour) % 24,
    minute: Number(p.minute),
    second: Number(p.second),
    weekday: WEEKDAYS[p.weekday] ?? 0
  }
}

/** `parts` with `millisecond` read as if they were a UTC time, in ms since 1970 (local wall time minus instant gives the offset). */
export function wallAsUtc (parts: WallParts, millisecond = 0): number {
  const asUtc = new Date(0)
  asUtc.setUTCFullYear(parts.year, parts.month - 1, parts.day)
  asUtc.setUTCHours(parts.hour, parts.minute, parts.second, millisecond)
  return asUtc.getTime()
}

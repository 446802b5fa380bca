// A time zone as offsets read from Intl (src/wall-time.ts): the offset at an instant, the instants
// a wall time maps to (none in a spring-forward gap, two in a fall-back overlap), and where an
// offset change happens.
import { ErrorCodes, LambkinError } from '../../../src/errors.js'
import { wallAsUtc, wallParts, zoneFormatter } from '../../../src/wall-time.js'

const DAY_MS = 86_400_000

export interface Zone {
  readonly name: string
  /** True when the offset is always 0, so wall time and instants coincide. */
  readonly fixedUtc: boolean
  /** Wall time minus instant at t, in ms (Berlin in summer: 7_200_000). */
  offset: (t: number) => number
}

export type WallResolution =
  | { kind: 'instants', instants: number[] }
  /** The wall time does not exist; `at` is the instant the clocks jumped past it. */
  | { kind: 'gap', at: number }

const zones = new Map<string, Zone>()

export function zoneOf (name: string): Zone {
  const cached = zones.get(name)
  if (cached !== undefined) return cached
  const fmt = zoneFormatter(name)
  if (fmt === undefined) {
    throw new LambkinError(ErrorCodes.SCHEDULE_INVALID, `time zone ${JSON.stringify(name)} is not a known IANA zone: use a name like "UTC" or "Europe/Berlin"`, { details: { key: 'timezone', timezone: name } })
  }
  const fixedUtc = ['UTC', 'ETC/UTC', 'GMT', 'ETC/GMT', 'ETC/UCT', 'UCT', 'ZULU', 'ETC/ZULU'].includes(name.toUpperCase())
  const offset = (t: number): number => {
    if (fixedUtc) return 0
    const at = Math.floor(t / 1000) * 1000
    return wallAsUtc(wallParts(fmt, at)) - at
  }
  const zone: Zone = Object.freeze({ name, fixedUtc, offset })
  zones.set(name, zone)
  return zone
}

/**
 * The first whole second in (lo, hi] whose offset differs from the offset at lo.
 * Assumes one change in the range, which holds for the spans we ask about (hours).
 */
export function findTransition (zone: Zone, lo: number, hi: number): number {
  const before = zone.offset(lo)
  let a = Math.floor(lo / 1000) * 1000
  let b = Math.ceil(hi / 1000) * 1000
  while (b - a > 1000) {
    const mid = a + Math.floor((b - a) / 2000) * 1000
    if (zone.offset(mid) === before) a = mid
    else b = mid
  }
  return b
}

/** The instants whose wall time is `wall` (whole seconds), earliest first. */
export function resolveWall (zone: Zone, wall: number): WallResolution {
  if (zone.fixedUtc) return { kind: 'instants', instants: [wall] }
  // Offsets a day either side cover any single change near this wall time.
  const candidates = new Set([zone.offset(wall - DAY_MS), zone.offset(wall), zone.offset(wall + DAY_MS)])
  const instants: number[] = []
  for (const o of candidates) {
    const t = wall - o
    if (zone.offset(t) === o && !instants.includes(t)) instants.push(t)
  }
  if (instants.length > 0) return { kind: 'instants', instants: instants.sort((x, y) => x - y) }
  const lo = wall - Math.max(...candidates)
  const hi = wall - Math.min(...candidates)
  return { kind: 'gap', at: findTransition(zone, lo, hi) }
}

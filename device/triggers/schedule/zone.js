// A time zone as offsets read from Intl.DateTimeFormat: the offset at an instant, the instants
// a wall time maps to (none in a spring-forward gap, two in a fall-back overlap), and where an
// offset change happens.
import { ErrorCodes, LambkinError } from '../../../src/errors.js';
const DAY_MS = 86_400_000;
const zones = new Map();
export function zoneOf(name) {
    const cached = zones.get(name);
    if (cached !== undefined)
        return cached;
    let fmt;
    try {
        fmt = new Intl.DateTimeFormat('en-US', {
            timeZone: name,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
            second: 'numeric'
        });
    }
    catch (err) {
        throw new LambkinError(ErrorCodes.SCHEDULE_INVALID, `time zone ${JSON.stringify(name)} is not a known IANA zone: use a name like "UTC" or "Europe/Berlin"`, { cause: err, details: { key: 'timezone', timezone: name } });
    }
    const fixedUtc = ['UTC', 'ETC/UTC', 'GMT', 'ETC/GMT', 'ETC/UCT', 'UCT', 'ZULU', 'ETC/ZULU'].includes(name.toUpperCase());
    const offset = (t) => {
        if (fixedUtc)
            return 0;
        const at = Math.floor(t / 1000) * 1000;
        const p = {};
        for (const part of fmt.formatToParts(at))
            if (part.type !== 'literal')
                p[part.type] = Number(part.value);
        const wall = new Date(0);
        wall.setUTCFullYear(p.year, p.month - 1, p.day);
        wall.setUTCHours(p.hour % 24, p.minute, p.second, 0);
        return wall.getTime() - at;
    };
    const zone = Object.freeze({ name, fixedUtc, offset });
    zones.set(name, zone);
    return zone;
}
/**
 * The first whole second in (lo, hi] whose offset differs from the offset at lo.
 * Assumes one change in the range, which holds for the spans we ask about (hours).
 */
export function findTransition(zone, lo, hi) {
    const before = zone.offset(lo);
    let a = Math.floor(lo / 1000) * 1000;
    let b = Math.ceil(hi / 1000) * 1000;
    while (b - a > 1000) {
        const mid = a + Math.floor((b - a) / 2000) * 1000;
        if (zone.offset(mid) === before)
            a = mid;
        else
            b = mid;
    }
    return b;
}
/** The instants whose wall time is `wall` (whole seconds), earliest first. */
export function resolveWall(zone, wall) {
    if (zone.fixedUtc)
        return { kind: 'instants', instants: [wall] };
    // Offsets a day either side cover any single change near this wall time.
    const candidates = new Set([zone.offset(wall - DAY_MS), zone.offset(wall), zone.offset(wall + DAY_MS)]);
    const instants = [];
    for (const o of candidates) {
        const t = wall - o;
        if (zone.offset(t) === o && !instants.includes(t))
            instants.push(t);
    }
    if (instants.length > 0)
        return { kind: 'instants', instants: instants.sort((x, y) => x - y) };
    const lo = wall - Math.max(...candidates);
    const hi = wall - Math.min(...candidates);
    return { kind: 'gap', at: findTransition(zone, lo, hi) };
}
//# sourceMappingURL=zone.js.map
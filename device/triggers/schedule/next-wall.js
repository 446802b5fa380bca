// The next wall-clock time a cron expression matches, with no time zone in sight: wall times
// are written as if they were UTC instants. It skips by field (month, day, hour, minute,
// second) rather than stepping through every second.
import { dayMatches, daysInMonth } from './cron-fields.js';
/** Beyond this many years without a match an expression is treated as never firing. */
export const SEARCH_YEARS = 100;
function firstAtLeast(sorted, v) {
    for (const x of sorted)
        if (x >= v)
            return x;
    return undefined;
}
/** The smallest whole-second wall time strictly after `after` that matches, or undefined. */
export function nextWall(f, after) {
    const d = new Date(Math.floor(after / 1000) * 1000 + 1000);
    let y = d.getUTCFullYear();
    let mo = d.getUTCMonth() + 1;
    let day = d.getUTCDate();
    let h = d.getUTCHours();
    let mi = d.getUTCMinutes();
    let s = d.getUTCSeconds();
    const lastYear = y + SEARCH_YEARS;
    for (;;) {
        // Carry overflow from the smaller fields upwards.
        if (mi > 59) {
            h++;
            mi = 0;
        }
        if (h > 23) {
            day++;
            h = 0;
        }
        if (day > daysInMonth(y, mo)) {
            mo++;
            day = 1;
        }
        if (mo > 12) {
            y++;
            mo = 1;
        }
        if (y > lastYear)
            return undefined;
        const m = firstAtLeast(f.months, mo);
        if (m === undefined) {
            y++;
            mo = 1;
            day = 1;
            h = 0;
            mi = 0;
            s = 0;
            continue;
        }
        if (m !== mo) {
            mo = m;
            day = 1;
            h = 0;
            mi = 0;
            s = 0;
            continue;
        }
        if (!dayMatches(f, y, mo, day)) {
            day++;
            h = 0;
            mi = 0;
            s = 0;
            continue;
        }
        const hh = firstAtLeast(f.hours, h);
        if (hh === undefined) {
            day++;
            h = 0;
            mi = 0;
            s = 0;
            continue;
        }
        if (hh !== h) {
            h = hh;
            mi = 0;
            s = 0;
        }
        const mm = firstAtLeast(f.minutes, mi);
        if (mm === undefined) {
            h++;
            mi = 0;
            s = 0;
            continue;
        }
        if (mm !== mi) {
            mi = mm;
            s = 0;
        }
        const ss = firstAtLeast(f.seconds, s);
        if (ss === undefined) {
            mi++;
            s = 0;
            continue;
        }
        return Date.UTC(y, mo - 1, day, h, mi, ss);
    }
}
//# sourceMappingURL=next-wall.js.map
// A cron expression as sorted field values, parsed by node-cron (so what the manifest
// validator accepts is exactly what runs), and node-cron's day rules: L, LW, nW, L-n, nL, n#k.
import cron from 'node-cron';
import { ErrorCodes, LambkinError } from '../../../src/errors.js';
function sortedNumbers(values) {
    return values.filter((v) => typeof v === 'number').sort((a, b) => a - b);
}
export function parseCron(expression) {
    const check = typeof expression === 'string' ? cron.validateDetailed(expression) : undefined;
    if (check?.valid !== true || check.fields === undefined) {
        const why = check?.errors.map((e) => e.message).join('; ') ?? 'not a string';
        throw new LambkinError(ErrorCodes.SCHEDULE_INVALID, `schedule ${JSON.stringify(expression)} is not a valid cron expression (${why}): use 5 fields, or 6 with seconds first, e.g. "*/10 * * * * *"`, { details: { key: 'schedule', expression } });
    }
    const f = check.fields;
    const hours = sortedNumbers(f.hour);
    return {
        seconds: sortedNumbers(f.second),
        minutes: sortedNumbers(f.minute),
        hours,
        months: sortedNumbers(f.month),
        daysOfMonth: f.dayOfMonth,
        daysOfWeek: f.dayOfWeek,
        everyHour: hours.length === 24
    };
}
export function daysInMonth(year, month) {
    return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
function weekdayOf(year, month, day) {
    return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}
/** The weekday nearest to target in the same month (the W token), as node-cron defines it. */
function nearestWeekday(year, month, target) {
    const last = daysInMonth(year, month);
    if (target < 1 || target > last)
        return -1;
    const wd = weekdayOf(year, month, target);
    if (wd === 6)
        return target === 1 ? target + 2 : target - 1;
    if (wd === 0)
        return target === last ? target - 2 : target + 1;
    return target;
}
function domMatches(values, year, month, day) {
    const last = daysInMonth(year, month);
    for (const v of values) {
        if (v === day)
            return true;
        if (typeof v !== 'string')
            continue;
        if (v === 'L') {
            if (day === last)
                return true;
            continue;
        }
        const w = /^(\d{1,2}|L)W$/.exec(v);
        if (w !== null && nearestWeekday(year, month, w[1] === 'L' ? last : Number(w[1])) === day)
            return true;
        const off = /^L-(\d{1,2})$/.exec(v);
        if (off !== null && last - Number(off[1]) === day)
            return true;
    }
    return false;
}
function dowMatches(values, year, month, day) {
    const wd = weekdayOf(year, month, day);
    for (const v of values) {
        if (v === wd)
            return true;
        if (typeof v !== 'string')
            continue;
        const nth = /^([0-7])#([1-5])$/.exec(v);
        if (nth !== null) {
            if (Number(nth[1]) % 7 === wd && Math.floor((day - 1) / 7) + 1 === Number(nth[2]))
                return true;
            continue;
        }
        const lastOf = /^([0-7])L$/i.exec(v);
        if (lastOf !== null && Number(lastOf[1]) % 7 === wd && day + 7 > daysInMonth(year, month))
            return true;
    }
    return false;
}
/**
 * Whether a calendar day matches. Like node-cron (and unlike Vixie cron, which ORs them when
 * both are restricted), day-of-month and day-of-week must both match.
 */
export function dayMatches(f, year, month, day) {
    return domMatches(f.daysOfMonth, year, month, day) && dowMatches(f.daysOfWeek, year, month, day);
}
//# sourceMappingURL=cron-fields.js.map
// When a cron expression fires in a time zone: next(t) and the most recent fire times in a
// range (for catch-up). Daylight saving rules (decided here, tested in cron-schedule.test):
// - a wall time skipped by a spring-forward gap fires once, at the instant of the jump, and
//   several skipped times fire as that one run;
// - in a fall-back overlap a wall time fires at its first occurrence only, unless the hour
//   field covers every hour (`*/10 * * * * *`), which keeps firing through the repeated hour.
import { ErrorCodes, LambkinError } from '../../../src/errors.js';
import { parseCron } from './cron-fields.js';
import { nextWall } from './next-wall.js';
import { findTransition, resolveWall, zoneOf } from './zone.js';
const DAY_MS = 86_400_000;
export class CronSchedule {
    expression;
    timezone;
    #fields;
    #zone;
    constructor(expression, timezone = 'UTC') {
        this.#fields = parseCron(expression);
        this.#zone = zoneOf(timezone);
        this.expression = expression;
        this.timezone = timezone;
    }
    /** The first fire instant strictly after `after`, or undefined if it never fires again. */
    next(after) {
        const f = this.#fields;
        const zone = this.#zone;
        if (zone.fixedUtc)
            return nextWall(f, after);
        let cur = after;
        // Each pass moves cur forward past a DST transition at most; a few passes suffice.
        for (let pass = 0; pass < 16; pass++) {
            const o = zone.offset(cur);
            const wall = nextWall(f, cur + o);
            if (wall === undefined)
                return undefined;
            const r = resolveWall(zone, wall);
            let t;
            if (r.kind === 'gap') {
                t = r.at;
            }
            else {
                const [first, second] = r.instants;
                if (first > cur) {
                    t = first;
                }
                else if (second !== undefined && second > cur) {
                    // cur is inside a repeated hour and this wall time already happened once.
                    if (f.everyHour)
                        return second;
                    cur = this.#endOfRepeat(first, second);
                    continue;
                }
                else {
                    throw new LambkinError(ErrorCodes.SCHEDULE_INVALID, `schedule "${this.expression}" in ${this.timezone}: could not place wall time ${new Date(wall).toISOString()} after ${new Date(cur).toISOString()}`, { details: { expression: this.expression, timezone: this.timezone } });
                }
            }
            // A fall-back transition shortly after cur repeats wall times at or before cur + o,
            // which nextWall() did not consider. Look for a match in the repeated stretch.
            const probe = Math.min(t, cur + DAY_MS);
            const o2 = zone.offset(probe);
            if (o2 < o) {
                const jump = findTransition(zone, cur, probe);
                const oAfter = zone.offset(jump);
                const again = nextWall(f, jump + oAfter - 1);
                if (again !== undefined && again - oAfter < t && zone.offset(again - oAfter) === oAfter) {
                    const repeated = again < jump + o;
                    if (!repeated || f.everyHour)
                        return again - oAfter;
                    cur = jump + (o - oAfter) - 1;
                    continue;
                }
            }
            return t;
        }
        throw new LambkinError(ErrorCodes.SCHEDULE_INVALID, `schedule "${this.expression}" in ${this.timezone}: no fire time found after ${new Date(after).toISOString()} (too many time zone transitions)`, { details: { expression: this.expression, timezone: this.timezone } });
    }
    /** All fire instants in (from, to], oldest first. Callers keep the range small. */
    between(from, to) {
        const out = [];
        let t = this.next(from);
        while (t !== undefined && t <= to) {
            out.push(t);
            t = this.next(t);
        }
        return out;
    }
    /**
     * The `count` most recent fire instants in (after, upTo], oldest first. Searches back from
     * upTo in growing windows, so a long downtime under a dense schedule costs about as much as
     * the runs it returns, not one step per missed run.
     */
    recent(after, upTo, count) {
        if (count <= 0 || upTo <= after)
            return [];
        for (let span = 60_000;; span *= 4) {
            const from = Math.max(after, upTo - span);
            const found = this.between(from, upTo);
            if (found.length >= count || from === after)
                return found.slice(-count);
        }
    }
    /** Just before the end of the second pass of a repeated stretch that holds these instants. */
    #endOfRepeat(first, second) {
        const jump = findTransition(this.#zone, first, second);
        return jump + (second - first) - 1;
    }
}
//# sourceMappingURL=cron-schedule.js.map
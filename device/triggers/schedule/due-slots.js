/** Counts fire times in (after, upTo], stopping at cap (each step costs a next() call). */
export function countDue(schedule, after, upTo, cap) {
    let count = 0;
    let t = schedule.next(after);
    while (t !== undefined && t <= upTo) {
        if (count === cap)
            return { count, capped: true };
        count++;
        t = schedule.next(t);
    }
    return { count, capped: false };
}
/**
 * The plan for fire times in (handled, now]. `maxCount` bounds the work of counting a huge gap
 * (a clock that jumped by a year under an every-second schedule): past it the count is a
 * lower bound and `capped` says so.
 */
export function planDue(schedule, handled, now, o) {
    const newest = now > handled ? schedule.recent(handled, now, 1)[0] : undefined;
    if (newest === undefined)
        return { runs: [], missed: 0, capped: false, newest: undefined };
    const onTime = now - newest <= o.lateAfterMs;
    // Missed fire times lie in (handled, missedUpTo]: every due one but an on-time newest.
    const missedUpTo = onTime ? newest - 1 : newest;
    const { count, capped } = countDue(schedule, handled, missedUpTo, o.maxCount);
    const made = Math.min(o.catchUp, count);
    const runs = made > 0 ? schedule.recent(handled, missedUpTo, made).map((scheduled) => ({ scheduled, catchUp: true })) : [];
    if (onTime)
        runs.push({ scheduled: newest, catchUp: false });
    return { runs, missed: count - runs.filter((r) => r.catchUp).length, capped, newest };
}
//# sourceMappingURL=due-slots.js.map
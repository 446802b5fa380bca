export declare class CronSchedule {
    #private;
    readonly expression: string;
    readonly timezone: string;
    constructor(expression: string, timezone?: string);
    /** The first fire instant strictly after `after`, or undefined if it never fires again. */
    next(after: number): number | undefined;
    /** All fire instants in (from, to], oldest first. Callers keep the range small. */
    between(from: number, to: number): number[];
    /**
     * The `count` most recent fire instants in (after, upTo], oldest first. Searches back from
     * upTo in growing windows, so a long downtime under a dense schedule costs about as much as
     * the runs it returns, not one step per missed run.
     */
    recent(after: number, upTo: number, count: number): number[];
}

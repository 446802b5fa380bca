export interface CronFields {
    seconds: number[];
    minutes: number[];
    hours: number[];
    months: number[];
    /** Day-of-month values: 1-31, or node-cron's tokens 'L', 'LW', '15W', 'L-3'. */
    daysOfMonth: Array<number | string>;
    /** Day-of-week values: 0-6 (Sunday 0), or tokens '5L' (last Friday), '1#2' (second Monday). */
    daysOfWeek: Array<number | string>;
    /** The hour field covers all 24 hours: such a schedule also runs in a repeated DST hour. */
    everyHour: boolean;
}
export declare function parseCron(expression: string): CronFields;
export declare function daysInMonth(year: number, month: number): number;
/**
 * Whether a calendar day matches. Like node-cron (and unlike Vixie cron, which ORs them when
 * both are restricted), day-of-month and day-of-week must both match.
 */
export declare function dayMatches(f: CronFields, year: number, month: number, day: number): boolean;

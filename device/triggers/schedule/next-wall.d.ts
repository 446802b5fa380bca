import type { CronFields } from './cron-fields.js';
/** Beyond this many years without a match an expression is treated as never firing. */
export declare const SEARCH_YEARS = 100;
/** The smallest whole-second wall time strictly after `after` that matches, or undefined. */
export declare function nextWall(f: CronFields, after: number): number | undefined;

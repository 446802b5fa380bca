import { Histogram } from './histogram.js';
import type { FunctionFigures, InvocationReport } from './types.js';
/** Codes past a function's cap are folded into this one, since a function can choose its own codes. */
export declare const OTHER_CODE = "other";
/** A failed report with no code at all. */
export declare const UNKNOWN_CODE = "unknown";
/**
 * Lambda bills memory (in GB of 1024 MiB) times duration rounded up to the next millisecond;
 * we follow it so figures compare with a Lambda bill.
 */
export declare function gbSecondsOf(memoryLimitBytes: number, durationMs: number): number;
export declare class FunctionStats {
    private readonly maxCodes;
    invocations: number;
    readonly errors: Map<string, number>;
    throttles: number;
    timeouts: number;
    coldStarts: number;
    readonly duration: Histogram;
    instructions: number;
    memoryHighWaterBytes: number;
    gbSeconds: number;
    constructor(bounds: readonly number[], maxCodes: number);
    record(r: InvocationReport, code: string | undefined): void;
    figures(): FunctionFigures;
}

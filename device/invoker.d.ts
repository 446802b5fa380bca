import type { FunctionManifest } from '../src/function/index.js';
import type { PublishRequest, SandboxPool } from '../src/sandbox/index.js';
import type { FunctionMetrics } from './metrics/index.js';
import type { MetaWrite, OutboxStore } from './store/index.js';
export interface InvocationRecord {
    fn: string;
    source: string;
    ok: boolean;
    code?: string;
    message?: string;
    result?: unknown;
    durationMs: number;
    invocationId: string;
    /**
     * Tries made in all: the first attempt plus the retries (`retry.attempts` in function.json
     * is the number of retries, as Lambda's MaximumRetryAttempts is); 0 when it never ran.
     */
    attempts: number;
}
export interface InvokerOptions {
    pool: SandboxPool;
    store: OutboxStore;
    metrics: FunctionMetrics;
    maxConcurrent: number;
    queueDepth: number;
    sleep: (ms: number) => Promise<void>;
    now: () => number;
    /** Hands publishes to the trigger broker once committed (QoS 1 ones with their store ids). */
    publish: (pubs: Array<PublishRequest & {
        id?: number;
    }>) => void;
    onInvocation: (rec: InvocationRecord) => void;
}
/**
 * What run() does when every slot is busy. 'wait': queue without bound and let the caller's
 * source wait (a QoS 1 message's acknowledgement, a sensor's next poll): the trigger links
 * bound how much they take, so overload stays at the broker. 'throttle': past `queueDepth`
 * waiting calls, answer LAMBKIN_THROTTLED at once (for QoS 0 messages, which MQTT lets a
 * receiver drop; counted in lambkin_throttles_total).
 */
export type Overload = 'wait' | 'throttle';
export interface RunOptions {
    /** Meta writes committed with this invocation, built at commit time. */
    meta?: () => MetaWrite[];
    /** Default 'wait'. */
    overload?: Overload;
}
/** Counts commits that failed; their trigger messages stay unacknowledged. */
export declare const COMMIT_FAILURES_METRIC = "commit_failures_total";
export declare class Invoker {
    #private;
    constructor(opts: InvokerOptions);
    register(manifest: FunctionManifest, key: string): void;
    get inflight(): number;
    /**
     * Runs and commits one event; resolves with its record once the commit is durable. A
     * failing function is not a rejection (it ends as a committed dead letter); a failing
     * commit is: it rejects with the store's LambkinError (LAMBKIN_STORE_FULL,
     * LAMBKIN_STORE_ERROR, LAMBKIN_CLOSED), after reporting the record to onInvocation and
     * counting it in lambkin_commit_failures_total, so the trigger does not acknowledge it.
     */
    run(fn: string, event: Record<string, unknown>, opts?: RunOptions): Promise<InvocationRecord>;
    /** Resolves when nothing is running or waiting, or after timeoutMs. */
    drain(timeoutMs: number): Promise<boolean>;
}

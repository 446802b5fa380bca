export interface Clock {
    /** Milliseconds since the epoch (wall clock). */
    now: () => number;
    /** Runs fn once after ms; the handle goes to clearTimeout. A returned promise is ignored here. */
    setTimeout: (fn: () => unknown, ms: number) => unknown;
    clearTimeout: (handle: unknown) => void;
}
/**
 * The real clock. Timers are unref'd so an armed trigger never keeps the process alive:
 * the agent's broker connections and servers decide when it lives.
 */
export declare const systemClock: Clock;
/**
 * A clock that moves only when told. Like Node's, its timers run on monotonic time, so
 * `jumpTo` (a wall-clock jump) moves now() without making timers due.
 *
 * `await advance(ms)` runs due timers in due order (ties in the order they were set),
 * including timers set while advancing. A callback that returns a promise (the triggers
 * return their file or store work) is awaited before the next timer runs, and after every
 * callback pending promise chains get a macrotask turn, so a trigger that re-arms once its
 * handler settles is re-armed before time moves on. Always await it.
 */
export declare class FakeClock implements Clock {
    #private;
    constructor(start?: number);
    now(): number;
    setTimeout(fn: () => unknown, ms: number): unknown;
    clearTimeout(handle: unknown): void;
    /** Timers armed and not yet run or cleared. */
    pending(): number;
    /** Milliseconds until the earliest armed timer is due, or undefined if none is armed. */
    nextIn(): number | undefined;
    /** Moves time forward by ms, running each timer at its due time. */
    advance(ms: number): Promise<void>;
    /** Sets the wall clock without running timers: a clock jump (NTP, a board without RTC). */
    jumpTo(time: number): void;
}

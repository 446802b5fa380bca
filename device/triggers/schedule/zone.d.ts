export interface Zone {
    readonly name: string;
    /** True when the offset is always 0, so wall time and instants coincide. */
    readonly fixedUtc: boolean;
    /** Wall time minus instant at t, in ms (Berlin in summer: 7_200_000). */
    offset: (t: number) => number;
}
export type WallResolution = {
    kind: 'instants';
    instants: number[];
}
/** The wall time does not exist; `at` is the instant the clocks jumped past it. */
 | {
    kind: 'gap';
    at: number;
};
export declare function zoneOf(name: string): Zone;
/**
 * The first whole second in (lo, hi] whose offset differs from the offset at lo.
 * Assumes one change in the range, which holds for the spans we ask about (hours).
 */
export declare function findTransition(zone: Zone, lo: number, hi: number): number;
/** The instants whose wall time is `wall` (whole seconds), earliest first. */
export declare function resolveWall(zone: Zone, wall: number): WallResolution;

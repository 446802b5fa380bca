import type { SimKind } from './options.js';
import type { Sample } from './file-source.js';
export interface SimOptions {
    kind: SimKind;
    min: number;
    max: number;
    periodMs: number;
    step: number;
    seed?: number;
    random: () => number;
}
/** mulberry32: tiny, fast and good enough to make a walk look like a sensor. */
export declare function seededRandom(seed: number): () => number;
/** Returns a function giving the sample at a clock time. */
export declare function simSource(o: SimOptions): (now: number) => Sample;

/** mulberry32: tiny, fast and good enough to make a walk look like a sensor. */
export function seededRandom(seed) {
    let a = Math.floor(seed) >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
const round3 = (v) => Math.round(v * 1000) / 1000;
/** Returns a function giving the sample at a clock time. */
export function simSource(o) {
    const mid = (o.min + o.max) / 2;
    const amp = (o.max - o.min) / 2;
    if (o.kind === 'sim:sine') {
        return (now) => {
            const raw = round3(mid + amp * Math.sin((2 * Math.PI * now) / o.periodMs));
            return { raw, scaled: raw };
        };
    }
    const random = o.seed === undefined ? o.random : seededRandom(o.seed);
    let value;
    return () => {
        value = value === undefined ? mid : Math.min(o.max, Math.max(o.min, value + (random() * 2 - 1) * o.step));
        const raw = round3(value);
        return { raw, scaled: raw };
    };
}
//# sourceMappingURL=sim-source.js.map
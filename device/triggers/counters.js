/**
 * Registers `name` and returns a function that bumps it, or a no-op without a registry.
 * Counting must never stop a trigger: a refused bump (series cap) is the registry's to count.
 */
export function counter(sink, name, def) {
    if (sink === undefined)
        return () => { };
    sink.register(name, def);
    return (labels, n = 1) => {
        if (n <= 0)
            return;
        try {
            sink.inc(name, labels, n);
        }
        catch { }
    };
}
export function isCounters(v) {
    const c = v;
    return typeof c?.register === 'function' && typeof c.inc === 'function';
}
//# sourceMappingURL=counters.js.map
// One deepFreeze for every frozen default and validated object (manifests, configs).

/** Freezes `v` and everything reachable from it (plain objects and arrays); returns `v`. */
export function deepFreeze<T> (v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x)
    Object.freeze(v)
  }
  return v
}

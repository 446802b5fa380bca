// Objects keyed by a name a user, a manifest or a device chose (function, group, layer, metric
// and env names, error codes from a device). A plain `{}` answers `constructor`, `toString`
// and `hasOwnProperty` from Object.prototype, and `obj.__proto__ = v` replaces its prototype:
// such maps are made with `dict()` and read with `own()`. Objects that went through CBOR, JSON
// or structuredClone come back with Object.prototype, so reads use `own()` whatever made them.

/** An empty object with no prototype: every key it answers was set on it. */
export function dict<T> (): Record<string, T> {
  return Object.create(null) as Record<string, T>
}

/** A null-prototype copy of `obj`'s own enumerable entries (an absent or non-object `obj`: empty). */
export function toDict<T> (obj: unknown): Record<string, T> {
  const out = dict<T>()
  if (obj === null || typeof obj !== 'object') return out
  for (const [k, v] of Object.entries(obj)) out[k] = v as T
  return out
}

/** `obj[key]` when `obj` holds `key` itself, never what its prototype holds. */
export function own<T> (obj: Readonly<Record<string, T>> | null | undefined, key: string): T | undefined {
  return obj !== null && obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined
}

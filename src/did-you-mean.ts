// "Did you mean" for unknown keys, options and names: one edit distance for the whole project.

/** Levenshtein distance between `a` and `b` (insertions, deletions, substitutions cost 1). */
export function editDistance (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]
}

/**
 * The known name nearest to `typo`, ignoring case: an exact case-insensitive match first,
 * else the closest within `maxEdits` edits (ties: the first in `known`); undefined if none.
 */
export function nearest (typo: string, known: readonly string[], maxEdits = 2): string | undefined {
  const t = typo.toLowerCase()
  const same = known.find((k) => k.toLowerCase() === t)
  if (same !== undefined) return same
  let best: string | undefined
  let bestD = maxEdits + 1
  for (const k of known) {
    const d = editDistance(t, k.toLowerCase())
    if (d < bestD) { best = k; bestD = d }
  }
  return best
}

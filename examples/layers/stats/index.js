// A layer: shared code any function can import by name after listing it in "layers".
export const mean = (xs) => xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length
export const round = (x, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits
export const max = (xs) => xs.reduce((a, b) => (b > a ? b : a), -Infinity)

/**
 * Welford's online mean and variance: fold one value into { n, mean, m2 } (a new object), so a
 * function keeps three numbers in ctx.state instead of every reading.
 */
export function welford (acc, x) {
  const n = acc.n + 1
  const delta = x - acc.mean
  const mean = acc.mean + delta / n
  return { n, mean, m2: acc.m2 + delta * (x - mean) }
}

/** The sample standard deviation of a Welford accumulator (0 below two values). */
export const stddev = (acc) => acc.n < 2 ? 0 : Math.sqrt(acc.m2 / (acc.n - 1))

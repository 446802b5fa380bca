// A layer: shared code any function can import by name after listing it in "layers".
export const mean = (xs) => xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length
export const round = (x, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits
export const max = (xs) => xs.reduce((a, b) => (b > a ? b : a), -Infinity)

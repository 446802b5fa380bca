// How integers and numbers written as text (environment variables, command-line flags) are
// read: plain decimal digits only. Number() would also take "1e3", "0x10", "0b1", " 7 " and
// "", so `LAMBKIN_BROKER_PORT=1e3` silently became port 1000.

const DECIMAL_INTEGER = /^\d+$/
const DECIMAL_NUMBER = /^\d+(\.\d+)?$/

/** The value of `text` when it is plain decimal digits (no sign, exponent, prefix or spaces) and a safe integer; else undefined. */
export function parseDecimalInteger (text: string): number | undefined {
  if (!DECIMAL_INTEGER.test(text)) return undefined
  const n = Number(text)
  return Number.isSafeInteger(n) ? n : undefined
}

/** Like parseDecimalInteger, also allowing a fraction (`2.5`); never an exponent or a sign. */
export function parseDecimalNumber (text: string): number | undefined {
  return DECIMAL_NUMBER.test(text) ? Number(text) : undefined
}

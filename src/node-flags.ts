// The flags Node was started with, read the one way cli/heap-bounds.ts and the sandbox pool
// both need them.

/**
 * The flags Node was started with, as `[name, value]` in the order Node applies them: those in
 * NODE_OPTIONS first, then the command line's (process.execArgv), so for a flag given twice the
 * last one holds. Names have `_` turned to `-` (V8 takes both); `value` is the text after the
 * first `=`, or undefined for a flag without one.
 */
export function givenNodeFlags (execArgv: readonly string[], nodeOptions = ''): Array<[name: string, value: string | undefined]> {
  const out: Array<[string, string | undefined]> = []
  for (const arg of [...nodeOptions.split(/\s+/), ...execArgv]) {
    if (arg === '') continue
    const eq = arg.indexOf('=')
    out.push(eq < 0 ? [arg.replace(/_/g, '-'), undefined] : [arg.slice(0, eq).replace(/_/g, '-'), arg.slice(eq + 1)])
  }
  return out
}

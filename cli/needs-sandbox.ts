// Which commands start sandboxes, in a module of its own so bin.ts can decide whether to re-run
// Node without loading the rest of the CLI.

/** Commands that start sandboxes, and so need the wasm address-space flag on ARM. */
export function needsSandbox (argv: string[]): boolean {
  return ['invoke', 'device', 'demo'].includes(argv[0] ?? '')
}

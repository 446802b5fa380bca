// Which commands start sandboxes, in a module of its own so bin.ts can decide whether to re-run
// Node without loading the rest of the CLI.

/** Commands that start sandboxes, and so need the wasm address-space flag on ARM. */
export function needsSandbox (argv: string[]): boolean {
  // `invoke --device` runs on the board, not here; `deploy` compiles the function first.
  if (argv[0] === 'invoke' && isRemoteInvoke(argv.slice(1))) return false
  // `device install-service` only writes a unit.
  if (argv[0] === 'device' && argv[1] === 'install-service') return false
  return ['invoke', 'device', 'demo', 'deploy'].includes(argv[0] ?? '')
}

/** True when `argv` (the words after `invoke`) asks for a remote invoke: it names --device. */
export function isRemoteInvoke (argv: readonly string[]): boolean {
  return argv.some((a) => a === '--device' || a.startsWith('--device='))
}

// The commands that keep data (the agent's outbox and bundles, the cloud's registry and keys),
// and `outbox`, which opens an agent's store and so makes LevelDB files in it, run with umask
// 077, so every file they make is 0600 and every folder 0700 (src/private-files.ts).
// Set by bin.ts for the real process only: a command run in-process (tests) must not change
// the umask of the process that runs it. `device install-service` writes system files with
// modes of its own and is left alone.

/** True when `args` (the words after `lambkin`) start a command that keeps data. */
export function keepsData (args: readonly string[]): boolean {
  const [command, sub] = args
  if (command === 'cloud' || command === 'demo' || command === 'outbox') return true
  return command === 'device' && sub !== 'install-service'
}

/** Owner-only file modes for the rest of this process, for the commands that keep data. */
export function privateUmask (args: readonly string[]): void {
  if (keepsData(args)) process.umask(0o077)
}

// Fault injection for the deployment crash tests: with LAMBKIN_TEST_CRASH_AT=<step> in its
// environment, the agent kills itself with SIGKILL when a deployment reaches that step, so a
// test can check it comes back on a consistent version. Read here only; unset in production.
//
// Steps, in order: fetched (bundle bytes in memory), bundle-written (file renamed into place),
// loaded (compiled in a sandbox), committed (active set written: the swap point), swapped
// (routes changed), reported (up/reported handed to the link), rollback-committed.

/** The environment variable that names the step. */
export const CRASH_AT_ENV = 'LAMBKIN_TEST_CRASH_AT'

export const CRASH_STEPS = Object.freeze(['fetched', 'bundle-written', 'loaded', 'committed', 'swapped', 'reported', 'rollback-committed'] as const)
export type CrashStep = (typeof CRASH_STEPS)[number]

/** Kills this process with SIGKILL (no cleanup at all, as a power cut) when `step` is the one named. */
export function crashPoint (step: CrashStep): void {
  if (process.env[CRASH_AT_ENV] === step) process.kill(process.pid, 'SIGKILL')
}

// Whether the tests run under CI, where a missing server (PostgreSQL, Mosquitto) is a failure
// rather than a reason to skip: .ci/run installs them and sets CI.

/** True under CI (`CI` set and not empty, as .ci/run sets it). */
export function underCi (): boolean {
  return process.env.CI !== undefined && process.env.CI !== ''
}

// How long the cloud link waits before its next connect attempt (docs/wire.md, the cloud
// link; README, "cloud.reconnectMaxMs"). The step starts at cloud.reconnectMs (1 s by default)
// and doubles per failed attempt up to cloud.reconnectMaxMs (15 s by default, RECONNECT_MAX_MS);
// each wait is a uniformly random share of its step ("full jitter", as in AWS's "Exponential
// Backoff And Jitter"). Why these numbers: a board is back within one step of the cloud's
// return, so at most 15 s after an outage of any length (the old 60 s cap cost a 44 s wait after
// a one-minute outage); and a fleet of N boards whose cloud comes back spreads its reconnects
// evenly over that step instead of arriving in waves, so 10,000 boards at the cap come at
// about 700 a second, which one cloud instance takes (the broker's verified-secret cache makes
// a reconnect cheap: docs/architecture.md, "Cloud side").

/** The default ceiling of a reconnect wait, ms (cloud.reconnectMaxMs). */
export const RECONNECT_MAX_MS = 15_000

/** Doublings past which the step stays at the ceiling (keeps 2 ** n finite). */
const MAX_DOUBLINGS = 20

/**
 * The wait before connect attempt `attempt` + 1 after `attempt` failures (0: the first retry),
 * ms: random() times min(maxMs, minMs * 2 ** attempt). `random` returns [0, 1).
 */
export function reconnectDelay (attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const step = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(0, attempt), MAX_DOUBLINGS))
  return Math.floor(step * random())
}

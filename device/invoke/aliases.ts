// Versions and aliases on the device: a function's `live` version and an optional `canary`
// that takes a share of invocations by weight (docs/architecture.md, "Deployer"; Lambda's
// weighted alias routing). Versions are immutable sandbox keys (`name@version`).
import type { FunctionManifest } from '../../src/function/index.js'

/** One loaded version: its sandbox key (`name@version`), manifest and content version. */
export interface Registered { key: string, manifest: FunctionManifest, version: string }

/** Where a function's invocations go: `live`, and `canary.weight`% (1-99) to the canary. */
export interface VersionRoute { live: Registered, canary?: Registered & { weight: number } }

/**
 * Picks the version one invocation runs on: the canary when `random() * 100 < weight`, else
 * live. `random` returns [0, 1) like Math.random; tests pass a seeded one.
 */
export function pickVersion (route: VersionRoute, random: () => number): Registered {
  const c = route.canary
  return c !== undefined && random() * 100 < c.weight ? c : route.live
}

/**
 * A small seeded random source (mulberry32) in [0, 1), for tests and reproducible canary
 * splits; the agent uses Math.random unless told otherwise.
 */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

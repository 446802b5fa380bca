// Reading a deployed bundle with the device's caps the way a local function folder is read: a
// limit the function never wrote (the default) above a lowered cap runs at the cap, and only
// a limit it asked for above a cap is refused (src/function/limits.ts, validateLimits). A
// bundle carries its manifest with every limit filled in by the packer, so a limit equal to
// the default counts as not written (an explicit request of exactly the default runs at the
// cap too). The bundle's content version is computed before, so clamping does not change it.
import { readBundle } from '../../src/bundle/index.js'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { LIMIT_DEFAULTS, resolveCaps } from '../../src/function/index.js'
import type { Limits } from '../../src/function/index.js'

/**
 * readBundle with `caps` for a device: checks everything readBundle checks, then brings
 * default limits above a cap down to it.
 * @throws LambkinError readBundle's (LAMBKIN_BUNDLE_INVALID, LAMBKIN_MANIFEST_INVALID), and
 *   LAMBKIN_LIMIT_EXCEEDS_CAP for a limit other than the default above the device's cap.
 */
export function readDeployedBundle (bytes: Uint8Array, sha256: string, caps: Partial<Limits>): ReturnType<typeof readBundle> {
  const cap = resolveCaps(caps)
  const lifted: Partial<Limits> = {}
  for (const k of Object.keys(cap) as Array<keyof Limits>) lifted[k] = Math.max(cap[k], LIMIT_DEFAULTS[k])
  const c = readBundle(bytes, { sha256, caps: lifted })
  const limits: Limits = { ...c.manifest.limits }
  for (const k of Object.keys(cap) as Array<keyof Limits>) {
    if (limits[k] <= cap[k]) continue
    if (limits[k] !== LIMIT_DEFAULTS[k]) {
      const reason = `is ${limits[k]}, above this device's cap of ${cap[k]}; lower it or raise the device's caps.${k}`
      throw new LambkinError(ErrorCodes.LIMIT_EXCEEDS_CAP, `function.json "limits.${k}" ${reason}`, { details: { key: `limits.${k}`, reason, value: limits[k], cap: cap[k] } })
    }
    limits[k] = cap[k]
  }
  return { ...c, manifest: { ...c.manifest, limits } }
}

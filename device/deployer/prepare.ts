// Making one bundle version ready to swap in, before anything changes for running functions:
// the signature checked against the trusted keys (before fetching), the bytes from disk or
// fetched by sha256 [W6], checked again (hash, size, signer, signature), read with the device's
// caps (bundle-caps.ts), written durably under the data folder, then compiled and initialised in a sandbox.
import { verifyBundle, verifySignature } from '../../src/bundle/index.js'
import type { TrustedKey } from '../../src/bundle/index.js'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import type { Limits } from '../../src/function/index.js'
import type { SandboxPool } from '../../src/sandbox/index.js'
import { specOf } from '../../src/sandbox/index.js'
import type { DesiredFunction, DesiredVersion } from '../../src/wire/index.js'
import type { Registered, VersionRoute } from '../invoke/aliases.js'
import type { Aliases, VersionEntry } from './active-set.js'
import type { BundleFiles } from './bundle-files.js'
import { readDeployedBundle } from './bundle-caps.js'
import { crashPoint } from './crash-points.js'
import type { Fetcher } from './fetcher.js'

export interface PrepareContext {
  files: BundleFiles
  fetcher: Fetcher
  pool: SandboxPool
  trusted: ReadonlyMap<string, TrustedKey>
  caps: Partial<Limits>
}

function invalid (message: string): LambkinError {
  return new LambkinError(ErrorCodes.BUNDLE_INVALID, message)
}

/**
 * Verifies, stores and loads the version `d` of function `name`; returns it loaded.
 * @throws LambkinError LAMBKIN_KEY_UNTRUSTED, LAMBKIN_SIGNATURE_INVALID, LAMBKIN_BUNDLE_INVALID
 *   (hash, size, contents not the function and version desired), LAMBKIN_DEPLOY_TIMEOUT (fetch),
 *   LAMBKIN_MANIFEST_INVALID / LAMBKIN_LIMIT_EXCEEDS_CAP (readBundle with the device's caps),
 *   or the sandbox's compile / initialisation error.
 */
export async function prepareVersion (ctx: PrepareContext, name: string, d: DesiredVersion): Promise<Registered> {
  const sig = { sha256: d.sha256, signature: d.signature, keyId: d.keyId }
  // An unknown signer or a bad signature is refused before a byte is fetched.
  verifySignature(sig, ctx.trusted)
  let bytes = await ctx.files.read(d.sha256)
  const stored = bytes !== undefined
  bytes ??= await ctx.fetcher.fetch(d.sha256)
  crashPoint('fetched')
  verifyBundle(bytes, sig, ctx.trusted)
  if (bytes.byteLength !== d.size) throw invalid(`bundle ${d.sha256.slice(0, 12)} is ${bytes.byteLength} bytes, not the ${d.size} its desired state says`)
  const c = readDeployedBundle(bytes, d.sha256, ctx.caps)
  if (c.name !== name || c.version !== d.version) throw invalid(`bundle ${d.sha256.slice(0, 12)} holds ${c.name} version ${c.version}, not ${name} version ${d.version}`)
  if (!stored) {
    await ctx.files.write(d.sha256, bytes)
    crashPoint('bundle-written')
  }
  const key = await ctx.pool.load(specOf({ manifest: c.manifest, dir: '', version: c.version, files: c.files, layers: c.layers }))
  crashPoint('loaded')
  return { key, manifest: c.manifest, version: c.version }
}

/**
 * Loads a version the active set already names from its file (at start, or a rollback
 * target): checked against its sha256 and read with the device's caps; no fetch, no
 * signature (it was verified when it was deployed, and the file is named by its hash).
 * @throws LambkinError LAMBKIN_BUNDLE_INVALID when the file is gone or damaged; readBundle's
 *   and the sandbox's errors.
 */
export async function loadStored (ctx: Omit<PrepareContext, 'fetcher' | 'trusted'>, name: string, e: VersionEntry): Promise<Registered> {
  const bytes = await ctx.files.read(e.sha256)
  if (bytes === undefined) throw invalid(`the bundle file of ${name} version ${e.version} (${e.sha256.slice(0, 12)}) is missing or damaged in ${ctx.files.dir}`)
  const c = readDeployedBundle(bytes, e.sha256, ctx.caps)
  if (c.name !== name) throw invalid(`bundle ${e.sha256.slice(0, 12)} holds ${c.name}, not ${name}`)
  const key = await ctx.pool.load(specOf({ manifest: c.manifest, dir: '', version: c.version, files: c.files, layers: c.layers }))
  return { key, manifest: c.manifest, version: c.version }
}

/**
 * Prepares a desired function's live (and canary) versions; on failure unloads (through
 * `unloadIfUnused`) what it loaded and throws a PrepareError naming the version that failed,
 * with prepareVersion's error as its `cause`.
 */
export async function prepareFunction (ctx: PrepareContext, d: DesiredFunction, unloadIfUnused: (key: string) => void): Promise<VersionRoute> {
  const loaded: Registered[] = []
  let at: DesiredVersion = d.live
  try {
    const live = await prepareVersion(ctx, d.name, d.live)
    loaded.push(live)
    if (d.canary === undefined) return { live }
    at = d.canary
    const canary = await prepareVersion(ctx, d.name, d.canary)
    return { live, canary: { ...canary, weight: d.canary.weight } }
  } catch (err) {
    for (const r of loaded) unloadIfUnused(r.key)
    throw new PrepareError(at, err)
  }
}

/** prepareFunction's failure: which version of the two failed, and why (`cause`, usually a LambkinError). */
export class PrepareError extends Error {
  readonly version: DesiredVersion
  constructor (version: DesiredVersion, cause: unknown) {
    super(errorMessage(cause), { cause })
    this.name = 'PrepareError'
    this.version = version
  }
}

/** Loads a deployed function's live (and canary) versions from their files (loadStored). */
export async function loadAliases (ctx: Omit<PrepareContext, 'fetcher' | 'trusted'>, name: string, a: Aliases): Promise<VersionRoute> {
  const live = await loadStored(ctx, name, a.live)
  if (a.canary === undefined) return { live }
  return { live, canary: { ...await loadStored(ctx, name, a.canary), weight: a.canary.weight } }
}

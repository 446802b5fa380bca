// The bundle: one function version as one CBOR map (manifest, code files, the layers it
// imports, name and content version), content-addressed by the sha256 of its bytes [W6].
// Packing is deterministic, so the same function folder always gives the same hash and a
// second upload of it is the same bundle. Reading one back re-validates everything, with the
// reader's own caps: a bundle is input from the network, however it was signed.
import { createHash } from 'node:crypto'
import { Encoder } from 'cbor-x'
import { ErrorCodes, errorMessage, LambkinError } from '../errors.js'
import { isValidId } from '../ids.js'
import { validateManifest, versionOf } from '../function/index.js'
import type { FunctionManifest, LoadedFunction, Limits } from '../function/index.js'
import { MAX_CODE_FILES } from '../function/index.js'

/**
 * The largest bundle, bytes. It travels in one MQTT packet (`down/bundle`) under the cloud's
 * 1 MiB + 128 KiB packet cap, and a board keeps the current and previous version of each
 * function on disk.
 */
export const BUNDLE_MAX_BYTES = 1024 * 1024

/** The bundle format version, the map's `format` field. */
export const BUNDLE_FORMAT = 1

/** A SHA-256 hex digest, as bundles are named [W1][W6]. */
export const SHA256_PATTERN = /^[0-9a-f]{64}$/

/** A bundle's contents once read and checked: what the agent loads, as from a folder. */
export interface BundleContents {
  name: string
  /** The content version (versionOf): first 16 hex digits of sha256 over manifest, files and layers. */
  version: string
  manifest: FunctionManifest
  files: Record<string, string>
  layers: Record<string, string>
}

/** A packed bundle: its bytes and their sha256 (hex). */
export interface PackedBundle { bytes: Buffer, sha256: string, name: string, version: string }

// Same settings as the wire's encoder (plain maps, no record extension): any CBOR reader can open a bundle.
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

const sorted = (m: Record<string, string>): Record<string, string> => Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k]]))

/** sha256 of bytes, hex. */
export function sha256Hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function invalid (reason: string, message: string): LambkinError {
  return new LambkinError(ErrorCodes.BUNDLE_INVALID, message, { details: { reason } })
}

/**
 * Packs a loaded function (loadFunctionDir) into bundle bytes.
 * @throws LambkinError LAMBKIN_BUNDLE_INVALID (reason `too-large`) past BUNDLE_MAX_BYTES.
 */
export function packBundle (fn: LoadedFunction): PackedBundle {
  const bytes = cbor.encode({
    format: BUNDLE_FORMAT,
    name: fn.manifest.name,
    version: fn.version,
    manifest: fn.manifest,
    files: sorted(fn.files),
    layers: sorted(fn.layers)
  }) as Buffer
  if (bytes.byteLength > BUNDLE_MAX_BYTES) throw invalid('too-large', `the bundle of ${fn.manifest.name} is ${bytes.byteLength} bytes, over the ${BUNDLE_MAX_BYTES} byte cap; trim its code or move shared code into a layer the device already has`)
  return { bytes, sha256: sha256Hex(bytes), name: fn.manifest.name, version: fn.version }
}

function stringMap (v: unknown, field: string, maxEntries: number): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) throw invalid('field', `bundle field ${field} must be a map of strings`)
  const entries = Object.entries(v as Record<string, unknown>)
  if (entries.length > maxEntries) throw invalid('field', `bundle field ${field} has ${entries.length} entries, more than ${maxEntries}`)
  for (const [k, s] of entries) {
    if (typeof s !== 'string') throw invalid('field', `bundle field ${field}.${k} must be a string`)
    // Paths stay relative and inside the function: no absolute paths, no climbing out.
    if (k === '' || k.startsWith('/') || k.split('/').some((part) => part === '..' || part === '.' || part === '')) throw invalid('field', `bundle field ${field} has a bad path ${JSON.stringify(k)}`)
  }
  return v as Record<string, string>
}

/**
 * Reads bundle bytes: size cap, the sha256 they must have (when given), CBOR, each field, the
 * manifest validated again with `opts.caps` (the reader's caps), the handler and layers
 * present, and the content version recomputed [W6].
 * @throws LambkinError LAMBKIN_BUNDLE_INVALID (details.reason `too-large`, `hash`, `malformed`,
 *   `field`, `version`); LAMBKIN_MANIFEST_INVALID or LAMBKIN_LIMIT_EXCEEDS_CAP from the manifest.
 */
export function readBundle (bytes: Uint8Array, opts: { sha256?: string, caps?: Partial<Limits> } = {}): BundleContents {
  if (bytes.byteLength > BUNDLE_MAX_BYTES) throw invalid('too-large', `bundle of ${bytes.byteLength} bytes is over the ${BUNDLE_MAX_BYTES} byte cap`)
  if (opts.sha256 !== undefined) {
    const got = sha256Hex(bytes)
    if (got !== opts.sha256) throw invalid('hash', `bundle bytes hash to sha256 ${got}, not the ${opts.sha256} asked for: they were altered or damaged on the way`)
  }
  let raw: unknown
  try {
    raw = cbor.decode(bytes)
  } catch (err) {
    throw invalid('malformed', `bundle is not valid CBOR: ${errorMessage(err)}`)
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Uint8Array) throw invalid('malformed', 'bundle is not a CBOR map')
  const b = raw as Record<string, unknown>
  if (b.format !== BUNDLE_FORMAT) throw invalid('version', `bundle format ${String(b.format)} is not ${BUNDLE_FORMAT}; this lambkin is too old or too new for it`)
  if (!isValidId(b.name)) throw invalid('field', 'bundle field name must be a function name')
  if (typeof b.version !== 'string' || !/^[0-9a-f]{16}$/.test(b.version)) throw invalid('field', 'bundle field version must be 16 hex digits')
  const files = stringMap(b.files, 'files', MAX_CODE_FILES)
  const layers = stringMap(b.layers, 'layers', 100)
  const manifest = validateManifest(b.manifest, { caps: opts.caps })
  if (manifest.name !== b.name) throw invalid('field', `bundle is named ${b.name} but its manifest names ${manifest.name}`)
  if (files[manifest.handler] === undefined) throw invalid('field', `bundle has no ${manifest.handler}, the handler its manifest names`)
  for (const l of manifest.layers) if (layers[l] === undefined) throw invalid('field', `bundle lacks layer ${l}, which its manifest imports`)
  const version = versionOf(manifest, files, layers)
  if (version !== b.version) throw invalid('version', `bundle says version ${b.version} but its contents are version ${version}`)
  return { name: manifest.name, version, manifest, files, layers }
}

// Signing a device's desired state end to end [W5]: the cloud signs, with ed25519, a canonical
// text of what the device acts on (its id, the deployment id, and per function every field of
// each version), and the device checks it against the keys it trusts before anything else. So
// a relay on a plain link can neither change the deployment id (pushing it out of reach), nor
// hand one device's state to another, nor pair an old signed bundle with a new id. Replaying a
// whole old signed state is refused by its id (LAMBKIN_DEPLOYMENT_STALE).
import { sign, verify } from 'node:crypto'
import { ErrorCodes, LambkinError } from '../errors.js'
import type { DesiredFrame, DesiredVersion } from '../wire/deploy-frames.js'
import type { SigningKey, TrustedKey } from './keys.js'
import { SIGNATURE_BYTES } from './sign.js'

/** A desired state's signature as `down/desired` carries it (`auth`). */
export interface DesiredAuth { keyId: string, signature: Uint8Array }

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const versionText = (v: DesiredVersion): string => `${v.version} ${v.number} ${v.sha256} ${v.size} ${v.keyId} ${hex(v.signature)}`

/**
 * The bytes a desired-state signature covers (docs/wire.md, W5): the lines
 * `lambkin desired v1`, `device <id>`, `deployment <id>`, then one line per function sorted by
 * name, `function <name> live <version> <number> <sha256> <size> <keyId> <signature hex>`
 * followed, for a canary, by ` canary <the same six fields> <weight>`; joined with "\n". Every
 * field is an id, a decimal integer or hex, so the text is unambiguous. `time` and each
 * function's `rollout` label are not covered: nothing acts on them (the device only prints and
 * echoes the label), and a device of an older lambkin verifies the same text.
 */
export function desiredMessage (deviceId: string, f: Pick<DesiredFrame, 'deploymentId' | 'functions'>): Buffer {
  const lines = ['lambkin desired v1', `device ${deviceId}`, `deployment ${f.deploymentId}`]
  for (const fn of [...f.functions].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    lines.push(`function ${fn.name} live ${versionText(fn.live)}${fn.canary === undefined ? '' : ` canary ${versionText(fn.canary)} ${fn.canary.weight}`}`)
  }
  return Buffer.from(lines.join('\n'))
}

/** Signs device `deviceId`'s desired state. */
export function signDesired (deviceId: string, f: Pick<DesiredFrame, 'deploymentId' | 'functions'>, key: SigningKey): DesiredAuth {
  return { keyId: key.keyId, signature: sign(null, desiredMessage(deviceId, f), key.privateKey) }
}

/**
 * Checks that `f` was signed for `deviceId` by a trusted key. Any trusted key may sign desired
 * state: the cloud's (its `cloud-signing.pub`, marked for desired state only) or a deploy key.
 * @throws LambkinError LAMBKIN_DESIRED_UNSIGNED (no `auth`: an older cloud, or stripped on the
 *   way), LAMBKIN_KEY_UNTRUSTED, LAMBKIN_SIGNATURE_INVALID (altered on the way, or another
 *   device's state).
 */
export function verifyDesired (deviceId: string, f: DesiredFrame, trusted: ReadonlyMap<string, TrustedKey>): TrustedKey {
  const what = `desired state ${f.deploymentId}`
  if (f.auth === undefined) {
    throw new LambkinError(ErrorCodes.DESIRED_UNSIGNED, `${what} carries no signature; it is refused. upgrade the cloud to a lambkin that signs desired state, and trust its key (<cloud data>/cloud-signing.pub) with --trust`)
  }
  const key = trusted.get(f.auth.keyId)
  if (key === undefined) {
    throw new LambkinError(ErrorCodes.KEY_UNTRUSTED, `${what} is signed by key ${f.auth.keyId}, which this device does not trust; add the cloud's key (<cloud data>/cloud-signing.pub) to trustedKeys or --trust`, { details: { keyId: f.auth.keyId } })
  }
  let ok = false
  try {
    ok = f.auth.signature.byteLength === SIGNATURE_BYTES && verify(null, desiredMessage(deviceId, f), key.publicKey, f.auth.signature)
  } catch {
    ok = false
  }
  if (!ok) throw new LambkinError(ErrorCodes.SIGNATURE_INVALID, `${what}'s signature does not verify with key ${f.auth.keyId} for device ${deviceId}: it was altered on the way, or made for another device`, { details: { keyId: f.auth.keyId } })
  return key
}

// The key the cloud signs each device's desired state with [W5] (src/bundle/desired-sign.ts):
// `<data>/cloud-signing.key` (PKCS#8 PEM, 0600), made on the first start, or a key file the
// operator names (`lambkin cloud --signing-key`, LAMBKIN_SIGNING_KEY), which is how several
// cloud instances of a scale-out share one. Its public half is written to
// `<data>/cloud-signing.pub` at every start, marked for desired state only, for devices to trust
// beside the deploy key (trustedKeys, --trust): the cloud can then say what a device runs, but
// never sign a bundle the device would run.
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { desiredStateKeyText, readSigningKey } from '../../src/bundle/index.js'
import type { SigningKey } from '../../src/bundle/index.js'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { writeNewFile } from '../../src/new-file.js'

export const CLOUD_SIGNING_KEY_FILE = 'cloud-signing.key'
export const CLOUD_SIGNING_PUB_FILE = 'cloud-signing.pub'

export interface CloudSigningKey { key: SigningKey, privateFile: string, publicFile: string }

/**
 * The cloud's desired-state key: `file` when given, else `<dataDir>/cloud-signing.key`, made
 * (mode 0600) when missing. Writes `<dataDir>/cloud-signing.pub` (marked for desired state only).
 * @throws LambkinError LAMBKIN_KEY_INVALID when the key file cannot be read or is not ed25519.
 */
export function cloudSigningKey (dataDir: string, file?: string): CloudSigningKey {
  const privateFile = file ?? join(dataDir, CLOUD_SIGNING_KEY_FILE)
  if (file === undefined && !existsSync(privateFile)) {
    const { privateKey } = generateKeyPairSync('ed25519')
    // Whole or absent (src/new-file.ts): an empty key left by a full disk would refuse every later start.
    try {
      writeNewFile(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600)
    } catch (cause) {
      throw new LambkinError(ErrorCodes.KEY_INVALID, `${privateFile} could not be written (${(cause as NodeJS.ErrnoException).code ?? errorMessage(cause)})`, { cause })
    }
  }
  if (file === undefined) chmodSync(privateFile, 0o600)
  const key = readSigningKey(privateFile)
  const publicFile = join(dataDir, CLOUD_SIGNING_PUB_FILE)
  const text = desiredStateKeyText(createPublicKey(key.privateKey))
  if (!existsSync(publicFile) || readFileSync(publicFile, 'utf8') !== text) writeFileSync(publicFile, text, { mode: 0o644 })
  return { key, privateFile, publicFile }
}

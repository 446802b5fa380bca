// The operator token (docs/cloud.md, "The operator API"): made once in the cloud's data folder,
// owner-only, and read by every start; the CLI and the dashboard send it as a bearer token.
import { chmodSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ErrorCodes, errorMessage, LambkinError } from '../src/errors.js'
import { writeNewFile } from '../src/new-file.js'
import { newSecret } from '../src/secrets.js'

/**
 * Reads `<data>/operator-token`, creating it (mode 0600) on first start, whole or not at all
 * (src/new-file.ts). Throws LAMBKIN_CONFIG_INVALID when it cannot be written (the errno is
 * given: a full disk) or holds no usable token.
 */
export function operatorToken (dataDir: string): { token: string, file: string } {
  const file = join(dataDir, 'operator-token')
  if (!existsSync(file)) {
    try {
      writeNewFile(file, newSecret() + '\n', 0o600)
    } catch (cause) {
      throw new LambkinError(ErrorCodes.CONFIG_INVALID, `${file} could not be written (${(cause as NodeJS.ErrnoException).code ?? errorMessage(cause)}); the cloud needs room in its data folder`, { cause })
    }
  }
  chmodSync(file, 0o600)
  const token = readFileSync(file, 'utf8').trim()
  if (token.length < 16) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `${file} holds no usable token (at least 16 characters); delete it to have a new one made`)
  return { token, file }
}

// The operator token (docs/cloud.md, "The operator API"): made once in the cloud's data folder,
// owner-only, and read by every start; the CLI and the dashboard send it as a bearer token.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ErrorCodes, LambkinError } from '../src/errors.js'
import { newSecret } from '../src/secrets.js'

/** Reads `<data>/operator-token`, creating it (mode 0600) on first start. */
export function operatorToken (dataDir: string): { token: string, file: string } {
  const file = join(dataDir, 'operator-token')
  if (!existsSync(file)) {
    writeFileSync(file, newSecret() + '\n', { mode: 0o600, flag: 'wx' })
  }
  chmodSync(file, 0o600)
  const token = readFileSync(file, 'utf8').trim()
  if (token.length < 16) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `${file} holds no usable token (at least 16 characters); delete it to have a new one made`)
  return { token, file }
}

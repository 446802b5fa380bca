// `lambkin keys generate [--out dir]`: a new ed25519 pair for signing bundles. The private key
// stays with whoever deploys (`lambkin deploy --key`); the public key is what the cloud and
// each device are told to trust (`--trust`, `trustedKeys`) [W6].
import path from 'node:path'
import { generateKeys, PRIVATE_KEY_FILE } from '../../src/bundle/index.js'
import { secretFileWarning } from '../../src/private-files.js'
import type { CliIo } from '../io.js'
import { command, runProgram } from '../program.js'
import type { Run } from '../program.js'

export async function keysCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = false
  const program = command('lambkin keys', io)
    .description('Manages the ed25519 keys that sign function bundles.')
  program.command('generate')
    .description('Writes a new key pair: <dir>/lambkin.key (private, mode 0600) and <dir>/lambkin.pub (public). Refuses to overwrite a private key.')
    .option('--out <dir>', 'where to write the pair', '.')
    .option('--json', 'machine-readable output')
    .action((f: { out: string, json?: boolean }) => {
      json = f.json === true
      // The existing key is refused below; if others can read it, that is worth saying first.
      const existing = secretFileWarning(path.join(f.out, PRIVATE_KEY_FILE), 'the signing key')
      if (existing !== undefined) io.stderr(`${existing}\n`)
      const k = generateKeys(f.out)
      if (json) { io.stdout(JSON.stringify(k) + '\n'); return }
      io.stdout(`key ${k.keyId}\nprivate: ${k.privateFile} (keep it secret; sign with lambkin deploy --key ${k.privateFile})\npublic:  ${k.publicFile} (trust it: lambkin cloud --trust ${k.publicFile}, lambkin device --trust ${k.publicFile})\n`)
    })
  return await runProgram(program, argv, io, run, () => json)
}

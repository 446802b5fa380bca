// `lambkin broker dynsec-init`: a new site's Mosquitto 2 dynamic-security file and config lines
// (cloud-sync/broker/dynsec-init.ts, docs/brokers.md), and the admin URL the cloud then takes
// as --broker-admin, printed once.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { defaultPluginPath, dynsecFile, mosquittoConf } from '../../cloud-sync/broker/dynsec-init.js'
import { CLOUD_SHARE_GROUP, DYNSEC_NAMES } from '../../cloud-sync/broker/dynsec-roles.js'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { newSecret } from '../../src/secrets.js'
import { makeFolder } from '../../src/data-dir.js'
import { replaceFile, writeNewFile } from '../../src/new-file.js'
import { usageError } from '../io.js'
import type { CliIo } from '../io.js'
import { command, intOption, runProgram } from '../program.js'
import type { Run } from '../program.js'

const USAGE = 'usage: lambkin broker dynsec-init --out <dir> [--host addr] [--port n] [--plugin file] [--json]'

interface InitFlags { out: string, host: string, port: number, plugin?: string, share: string, json?: boolean }

export async function brokerCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = false
  const program = command('lambkin broker', io)
    .description('Sets up an external MQTT broker for the cloud (docs/brokers.md).')
    .action(() => { throw usageError('name what to do', USAGE) })
  program.command('dynsec-init')
    .description('Writes <dir>/dynamic-security.json (mode 0600: the lambkin.cloud client with a new random password, its cloud and admin roles, deny by default) and <dir>/lambkin.conf (lines for Mosquitto 2: listener, no anonymous clients, the plugin), and prints once the URL to give lambkin cloud --broker-admin. Refuses to overwrite a dynamic-security.json. Mosquitto rewrites that file, so its user must be able to write the folder.')
    .requiredOption('--out <dir>', 'where to write the two files (made if missing)')
    .option('--host <addr>', 'the listener\'s address (0.0.0.0 for boards on the network)', '127.0.0.1')
    .option('--port <n>', 'the listener\'s port', intOption('--port', 1, 65535), 1883)
    .option('--plugin <file>', 'the dynamic-security plugin (default: Debian\'s path for this machine)')
    .option('--share <group>', 'the shared-subscription group cloud instances consume uploads in', CLOUD_SHARE_GROUP)
    .option('--json', 'machine-readable output')
    .action((f: InitFlags) => {
      json = f.json === true
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(f.share)) throw usageError('--share must be 1 to 64 letters, digits, _ or -', USAGE)
      const dir = path.resolve(f.out)
      const jsonFile = path.join(dir, 'dynamic-security.json')
      const confFile = path.join(dir, 'lambkin.conf')
      if (existsSync(jsonFile)) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `${jsonFile} exists; dynsec-init makes a new site and does not overwrite it (its clients would be lost). Move it aside, or manage it with mosquitto_ctrl`, { details: { key: 'out' } })
      const password = newSecret()
      // Refuses /proc and /sys (LAMBKIN_CONFIG_INVALID) instead of spinning there; readable by Mosquitto's user.
      makeFolder(dir, '--out', 0o755)
      try {
        writeNewFile(jsonFile, JSON.stringify(dynsecFile(password, f.share), null, 2) + '\n', 0o600)
        const conf = mosquittoConf({ dynsecFile: jsonFile, plugin: f.plugin ?? defaultPluginPath(), listener: { host: f.host, port: f.port } })
        replaceFile(confFile, conf, 0o644)
      } catch (err) {
        throw new LambkinError(ErrorCodes.CONFIG_INVALID, `cannot write into ${dir} (${(err as { code?: string }).code ?? errorMessage(err)}); choose another --out`, { cause: err, details: { key: 'out' } })
      }
      const host = f.host === '0.0.0.0' || f.host === '::' ? '<this host>' : f.host.includes(':') ? `[${f.host}]` : f.host
      const url = `mqtt://${DYNSEC_NAMES.cloudClient}:${password}@${host}:${f.port}`
      if (json) { io.stdout(JSON.stringify({ dynsecFile: jsonFile, confFile, username: DYNSEC_NAMES.cloudClient, password, url }) + '\n'); return }
      io.stdout([
        `wrote ${jsonFile} (mode 0600) and ${confFile}`,
        `include ${confFile} in Mosquitto's config (on Debian: copy it to /etc/mosquitto/conf.d/), let Mosquitto's user write ${dir}, and restart Mosquitto`,
        `the cloud's broker user is ${DYNSEC_NAMES.cloudClient}; its password is shown once:`,
        `  lambkin cloud --broker-admin '${url}' …   (or LAMBKIN_BROKER_ADMIN)`,
        ''
      ].join('\n'))
    })
  return await runProgram(program, argv, io, run, () => json)
}

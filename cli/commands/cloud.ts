// `lambkin cloud`: the embedded cloud for one machine (aedes for devices, a LevelDB registry,
// the operator API) in the foreground until SIGINT/SIGTERM, then closed in reverse order.
import { Cloud, CLOUD_DEFAULTS, SILENCE_DEFAULTS } from '../../cloud-sync/index.js'
import type { CloudOptions } from '../../cloud-sync/index.js'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { untilSignal } from '../signals.js'
import { secretFileWarning } from '../../src/private-files.js'
import type { CliIo } from '../io.js'
import { command, intOption, runProgram } from '../program.js'
import type { Run } from '../program.js'

interface Flags { data: string, host: string, port: number, apiPort: number, apiHost: string, apiTlsCert?: string, apiTlsKey?: string, tlsPort?: number, tlsCert?: string, tlsKey?: string, maxConnections: number, keepaliveMax: number, trust: string[] }

export async function cloudCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  const program = command('lambkin cloud', io)
    .description('Runs the cloud side for one machine: an MQTT broker for devices (TCP, and TLS with --tls-port), a registry in LevelDB under --data, and the operator API. Prints one ready line; SIGINT/SIGTERM close it.')
    .requiredOption('--data <dir>', 'registry, operator token and everything kept across restarts')
    .option('--host <addr>', 'where the device broker listens (0.0.0.0 for boards on the network)', CLOUD_DEFAULTS.host)
    .option('--port <n>', 'device broker port, MQTT over TCP (0: any free port)', intOption('--port', 0, 65535), CLOUD_DEFAULTS.port)
    .option('--api-port <n>', 'operator API port (0: any free port)', intOption('--api-port', 0, 65535), CLOUD_DEFAULTS.apiPort)
    .option('--api-host <addr>', 'where the operator API listens (beyond loopback: a warning at start; use --api-tls-cert)', CLOUD_DEFAULTS.apiHost)
    .option('--api-tls-cert <file>', 'serve the operator API over HTTPS with this PEM certificate (with --api-tls-key; operators pass --api https://..., and NODE_EXTRA_CA_CERTS=<ca.pem> for a private CA)')
    .option('--api-tls-key <file>', 'PEM private key for --api-tls-cert')
    .option('--tls-port <n>', 'also listen for MQTT over TLS on this port (needs --tls-cert and --tls-key)', intOption('--tls-port', 0, 65535))
    .option('--tls-cert <file>', 'PEM certificate for --tls-port')
    .option('--tls-key <file>', 'PEM private key for --tls-port')
    .option('--max-connections <n>', 'device connections at once', intOption('--max-connections', 1, 10_000_000), CLOUD_DEFAULTS.maxConnections)
    .option('--keepalive-max <s>', 'a device connection silent for 1.5x this many seconds is closed as half-open (devices\' cloud.keepaliveSec and heartbeatMs must stay below it)', intOption('--keepalive-max', 1, 65_535), SILENCE_DEFAULTS.keepaliveMaxSec)
    .option('--trust <file.pub>', 'a public key whose signed bundles this cloud takes (repeatable; from lambkin keys generate); with none, uploads are refused', (file: string, all: string[]) => [...all, file], [] as string[])
    .action(async (f: Flags) => {
      const tlsGiven = [f.tlsPort, f.tlsCert, f.tlsKey].filter((x) => x !== undefined).length
      if (tlsGiven !== 0 && tlsGiven !== 3) throw new LambkinError(ErrorCodes.USAGE, '--tls-port, --tls-cert and --tls-key go together')
      if ((f.apiTlsCert === undefined) !== (f.apiTlsKey === undefined)) throw new LambkinError(ErrorCodes.USAGE, '--api-tls-cert and --api-tls-key go together')
      const opts: CloudOptions = {
        dataDir: f.data,
        host: f.host,
        port: f.port,
        apiPort: f.apiPort,
        apiHost: f.apiHost,
        maxConnections: f.maxConnections,
        keepaliveMaxSec: f.keepaliveMax,
        trustedKeys: f.trust,
        log: (line) => io.stderr(`${line}\n`)
      }
      if (f.tlsPort !== undefined && f.tlsCert !== undefined && f.tlsKey !== undefined) opts.tls = { port: f.tlsPort, certFile: f.tlsCert, keyFile: f.tlsKey }
      if (f.apiTlsCert !== undefined && f.apiTlsKey !== undefined) opts.apiTls = { certFile: f.apiTlsCert, keyFile: f.apiTlsKey }
      // Everything the cloud writes from here (LevelDB's files included) is owner-only (src/private-files.ts).
      process.umask(0o077)
      for (const [file, what] of [[f.tlsKey, 'the TLS key'], [f.apiTlsKey, 'the API\'s TLS key']] as const) {
        const w = file === undefined ? undefined : secretFileWarning(file, what)
        if (w !== undefined) io.stderr(`${w}\n`)
      }
      const signals = untilSignal(io)
      try {
        const cloud = await Cloud.create(opts)
        io.stdout(cloud.readyLine() + '\n')
        io.stdout(`dashboard: ${cloud.api.url}/ (sign in with the operator token)\n`)
        if (f.trust.length === 0) io.stderr('lambkin cloud: no --trust keys, so bundle uploads (lambkin deploy) are refused; add --trust <lambkin.pub>\n')
        await signals.stopped
        await cloud.close()
        io.stderr('lambkin cloud stopped\n')
      } finally {
        signals.dispose()
      }
    })
  return await runProgram(program, argv, io, run)
}

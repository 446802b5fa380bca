// `lambkin cloud`: the embedded cloud for one machine (aedes for devices, a LevelDB registry,
// or a PostgreSQL one with --db, the operator API) in the foreground until SIGINT/SIGTERM, then
// closed in reverse order. `lambkin cloud migrate` is in cloud-migrate.ts.
import { Cloud, CLOUD_DEFAULTS, SILENCE_DEFAULTS } from '../../cloud-sync/index.js'
import type { CloudOptions } from '../../cloud-sync/index.js'
import { MAX_RETENTION_DAYS, PG_DEFAULTS } from '../../cloud-sync/registry/pg/defaults.js'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { logLine } from '../log.js'
import { untilSignal } from '../signals.js'
import { secretFileWarning } from '../../src/private-files.js'
import { redactUrls } from '../../src/redact.js'
import type { CliIo } from '../io.js'
import { command, intOption, runProgram } from '../program.js'
import type { Run } from '../program.js'

interface Flags { data: string, host: string, port: number, plain: boolean, apiPort: number, apiHost: string, apiTlsCert?: string, apiTlsKey?: string, tlsPort?: number, tlsCert?: string, tlsKey?: string, maxConnections: number, keepaliveMax: number, trust: string[], signingKey?: string, db?: string, retentionDays?: number }

/** LAMBKIN_DB_URL and LAMBKIN_RETENTION_DAYS, where a flag did not say (cloud-migrate.ts reads the first too). */
export function dbFromEnv (db: string | undefined): string | undefined {
  return db ?? (process.env.LAMBKIN_DB_URL === '' ? undefined : process.env.LAMBKIN_DB_URL)
}

/** --broker-admin, else LAMBKIN_BROKER_ADMIN; throws LAMBKIN_USAGE for a URL that is not mqtt(s)://. */
export function brokerAdminUrl (flag: string | undefined): string | undefined {
  const url = flag ?? (process.env.LAMBKIN_BROKER_ADMIN === '' ? undefined : process.env.LAMBKIN_BROKER_ADMIN)
  if (url === undefined) return undefined
  let parsed: URL | undefined
  try { parsed = new URL(url) } catch { parsed = undefined }
  if (parsed === undefined || !['mqtt:', 'mqtts:'].includes(parsed.protocol) || parsed.hostname === '') throw new LambkinError(ErrorCodes.USAGE, `--broker-admin (or LAMBKIN_BROKER_ADMIN) must be mqtt://user:password@host:port or mqtts://…; got ${redactUrls(url)}`)
  if (parsed.username === '') throw new LambkinError(ErrorCodes.USAGE, `--broker-admin ${redactUrls(url)} names no user: give the admin client's user name and password (mqtt://lambkin.cloud:<password>@host:port)`)
  return url
}

function retentionFromEnv (days: number | undefined): number | undefined {
  const env = process.env.LAMBKIN_RETENTION_DAYS
  if (days !== undefined || env === undefined || env === '') return days
  if (!/^\d+$/.test(env) || Number(env) > MAX_RETENTION_DAYS) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `LAMBKIN_RETENTION_DAYS must be an integer from 0 to ${MAX_RETENTION_DAYS}; got ${JSON.stringify(env)}`)
  return Number(env)
}

export async function cloudCommand (argv: string[], io: CliIo): Promise<number> {
  if (argv[0] === 'migrate') return await (await import('./cloud-migrate.js')).cloudMigrateCommand(argv.slice(1), io)
  const run: Run = { code: 0 }
  const program = command('lambkin cloud', io)
    .description('Runs the cloud side: an MQTT broker for devices (TCP, and TLS with --tls-port), a registry (LevelDB under --data, or PostgreSQL with --db), and the operator API. Prints one ready line; SIGINT/SIGTERM close it. lambkin cloud migrate --help: the PostgreSQL schema.')
    .requiredOption('--data <dir>', 'registry (without --db), operator token, signing key and everything kept across restarts')
    .option('--db <url>', 'keep the registry in PostgreSQL (postgres://user:password@host:5432/database; default LAMBKIN_DB_URL) instead of LevelDB under --data; its schema is migrated at start (docs/postgres.md)')
    .option('--retention-days <n>', `with --db: days records are kept, whole days dropped after; 0 keeps them for ever (default LAMBKIN_RETENTION_DAYS, else ${PG_DEFAULTS.retentionDays})`, intOption('--retention-days', 0, MAX_RETENTION_DAYS))
    .option('--host <addr>', 'where the device broker listens (0.0.0.0 for boards on the network)', CLOUD_DEFAULTS.host)
    .option('--port <n>', 'device broker port, MQTT over TCP (0: any free port)', intOption('--port', 0, 65535), CLOUD_DEFAULTS.port)
    .option('--api-port <n>', 'operator API port (0: any free port)', intOption('--api-port', 0, 65535), CLOUD_DEFAULTS.apiPort)
    .option('--api-host <addr>', 'where the operator API listens (beyond loopback: a warning at start; use --api-tls-cert)', CLOUD_DEFAULTS.apiHost)
    .option('--api-tls-cert <file>', 'serve the operator API over HTTPS with this PEM certificate (with --api-tls-key; operators pass --api https://..., and NODE_EXTRA_CA_CERTS=<ca.pem> for a private CA)')
    .option('--api-tls-key <file>', 'PEM private key for --api-tls-cert')
    .option('--no-plain', 'no plain MQTT port at all: devices connect over TLS only (needs --tls-port, --tls-cert, --tls-key)')
    .option('--tls-port <n>', 'also listen for MQTT over TLS on this port (needs --tls-cert and --tls-key)', intOption('--tls-port', 0, 65535))
    .option('--tls-cert <file>', 'PEM certificate for --tls-port')
    .option('--tls-key <file>', 'PEM private key for --tls-port')
    .option('--max-connections <n>', 'device connections at once', intOption('--max-connections', 1, 10_000_000), CLOUD_DEFAULTS.maxConnections)
    .option('--keepalive-max <s>', 'a device connection silent for 1.5x this many seconds is closed as half-open (devices\' cloud.keepaliveSec and heartbeatMs must stay below it)', intOption('--keepalive-max', 1, 65_535), SILENCE_DEFAULTS.keepaliveMaxSec)
    .option('--trust <file.pub>', 'a public key whose signed bundles this cloud takes (repeatable; from lambkin keys generate); with none, uploads are refused', (file: string, all: string[]) => [...all, file], [] as string[])
    .option('--broker-admin <url>', 'manage device credentials on an external Mosquitto 2 with the dynamic-security plugin too: mqtt(s)://user:password@host:port of a client with its admin role (lambkin broker dynsec-init makes one; default LAMBKIN_BROKER_ADMIN). devices add, rotate and revoke then create, re-key and delete the device\'s broker client and role (docs/brokers.md)')
    .option('--signing-key <file>', 'the private key that signs desired states (default LAMBKIN_SIGNING_KEY, else <data>/cloud-signing.key, made on the first start); cloud instances of one fleet share one. Devices trust <data>/cloud-signing.pub')
    .action(async (f: Flags & { brokerAdmin?: string }) => {
      const tlsGiven = [f.tlsPort, f.tlsCert, f.tlsKey].filter((x) => x !== undefined).length
      if (tlsGiven !== 0 && tlsGiven !== 3) throw new LambkinError(ErrorCodes.USAGE, '--tls-port, --tls-cert and --tls-key go together')
      if ((f.apiTlsCert === undefined) !== (f.apiTlsKey === undefined)) throw new LambkinError(ErrorCodes.USAGE, '--api-tls-cert and --api-tls-key go together')
      if (!f.plain && tlsGiven === 0) throw new LambkinError(ErrorCodes.USAGE, '--no-plain turns the plain MQTT port off, so it needs --tls-port, --tls-cert and --tls-key: devices would have nothing to connect to')
      const signingKey = f.signingKey ?? (process.env.LAMBKIN_SIGNING_KEY === '' ? undefined : process.env.LAMBKIN_SIGNING_KEY)
      const db = dbFromEnv(f.db)
      if (db === undefined && f.retentionDays !== undefined) throw new LambkinError(ErrorCodes.USAGE, '--retention-days applies to the PostgreSQL registry: give --db too (the LevelDB registry keeps records until the device row goes)')
      const brokerAdmin = brokerAdminUrl(f.brokerAdmin)
      const opts: CloudOptions = {
        dataDir: f.data,
        host: f.host,
        port: f.port,
        plain: f.plain,
        apiPort: f.apiPort,
        apiHost: f.apiHost,
        maxConnections: f.maxConnections,
        keepaliveMaxSec: f.keepaliveMax,
        trustedKeys: f.trust,
        ...(brokerAdmin === undefined ? {} : { brokerAdmin: { url: brokerAdmin } }),
        ...(signingKey === undefined ? {} : { signingKeyFile: signingKey }),
        ...(db === undefined ? {} : { db: { url: db, retentionDays: retentionFromEnv(f.retentionDays) } }),
        log: (line) => logLine(io, line)
      }
      if (f.tlsPort !== undefined && f.tlsCert !== undefined && f.tlsKey !== undefined) opts.tls = { port: f.tlsPort, certFile: f.tlsCert, keyFile: f.tlsKey }
      if (f.apiTlsCert !== undefined && f.apiTlsKey !== undefined) opts.apiTls = { certFile: f.apiTlsCert, keyFile: f.apiTlsKey }
      for (const [file, what] of [[f.tlsKey, 'the TLS key'], [f.apiTlsKey, 'the API\'s TLS key'], [signingKey, 'the desired-state signing key']] as const) {
        const w = file === undefined ? undefined : secretFileWarning(file, what)
        if (w !== undefined) logLine(io, w, 'warning')
      }
      const signals = untilSignal(io)
      try {
        const cloud = await Cloud.create(opts)
        io.stdout(cloud.readyLine() + '\n')
        io.stdout(`dashboard: ${cloud.api.url}/ (sign in with the operator token)\n`)
        logLine(io, `lambkin cloud: desired states are signed with ${cloud.signing.privateFile} (key ${cloud.signing.key.keyId}); devices trust ${cloud.signing.publicFile} beside the deploy key (trustedKeys, --trust)`, 'notice')
        if (f.trust.length === 0) logLine(io, 'lambkin cloud: no --trust keys, so bundle uploads (lambkin deploy) are refused; add --trust <lambkin.pub>', 'warning')
        await signals.stopped
        await cloud.close()
        logLine(io, 'lambkin cloud stopped', 'notice')
      } finally {
        signals.dispose()
      }
    })
  return await runProgram(program, argv, io, run)
}

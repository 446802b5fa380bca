// `lambkin cloud`: the embedded cloud for one machine (aedes for devices, a LevelDB registry,
// or a PostgreSQL one with --db, the operator API), or with --broker one of several instances
// on the fleet's own broker and database (docs/scale-out.md), in the foreground until
// SIGINT/SIGTERM, then closed in reverse order. `lambkin cloud migrate` is in cloud-migrate.ts.
import { Cloud, CLOUD_DEFAULTS, SILENCE_DEFAULTS } from '../../cloud-sync/index.js'
import { EXTERNAL_BROKER_DEFAULTS } from '../../cloud-sync/broker/external/defaults.js'
import type { CloudOptions } from '../../cloud-sync/index.js'
import { MAX_RETENTION_DAYS, PG_DEFAULTS } from '../../cloud-sync/registry/pg/defaults.js'
import { STORED_NOTES_DEFAULTS } from '../../cloud-sync/coord/stored-notes.js'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { controlCharProblem } from '../../src/control-chars.js'
import { logLine } from '../log.js'
import { untilSignal } from '../signals.js'
import { secretFileWarning } from '../../src/private-files.js'
import { redactUrls } from '../../src/redact.js'
import type { CliIo } from '../io.js'
import { command, intOption, runProgram } from '../program.js'
import type { Run } from '../program.js'

interface Flags {
  data: string
  host: string
  port: number
  plain: boolean
  apiPort: number
  apiHost: string
  apiTlsCert?: string
  apiTlsKey?: string
  tlsPort?: number
  tlsCert?: string
  tlsKey?: string
  maxConnections: number
  keepaliveMax: number
  /** `--trust` (repeatable); unset when none was given. */
  trust?: string[]
  signingKey?: string
  db?: string
  retentionDays?: number
  followPoll?: number
  broker?: string
  brokerCa?: string
  sessionExpiry?: number
}

/**
 * A LAMBKIN_* setting of the cloud: unset when empty. A control character in it (a CRLF env
 * file's "\r") is refused: it would make a key file missing or a database another one.
 * @throws LambkinError LAMBKIN_CONFIG_INVALID naming the variable and the character.
 */
function fromEnv (name: string): string | undefined {
  const v = process.env[name]
  if (v === undefined || v === '') return undefined
  const problem = controlCharProblem(v)
  if (problem !== undefined) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `environment variable ${name} ${problem}`, { details: { key: name } })
  return v
}

/** LAMBKIN_DB_URL and LAMBKIN_RETENTION_DAYS, where a flag did not say (cloud-migrate.ts reads the first too). */
export function dbFromEnv (db: string | undefined): string | undefined {
  return db ?? fromEnv('LAMBKIN_DB_URL')
}

/**
 * --broker-admin's URL, else LAMBKIN_BROKER_ADMIN; --broker-admin without one reuses `broker`
 * (--broker's). Throws LAMBKIN_USAGE for a URL that is not mqtt(s):// with a user name.
 */
export function brokerAdminUrl (flag: string | true | undefined, broker?: string): string | undefined {
  if (flag === true && broker === undefined) throw new LambkinError(ErrorCodes.USAGE, '--broker-admin without a URL reuses the --broker one (LAMBKIN_BROKER_URL), and there is none: give one of them')
  const url = flag === true ? broker : flag ?? fromEnv('LAMBKIN_BROKER_ADMIN')
  if (url === undefined) return undefined
  let parsed: URL | undefined
  try { parsed = new URL(url) } catch { parsed = undefined }
  if (parsed === undefined || !['mqtt:', 'mqtts:'].includes(parsed.protocol) || parsed.hostname === '') throw new LambkinError(ErrorCodes.USAGE, `--broker-admin (or LAMBKIN_BROKER_ADMIN) must be mqtt://user:password@host:port or mqtts://…; got ${redactUrls(url)}`)
  if (parsed.username === '') throw new LambkinError(ErrorCodes.USAGE, `--broker-admin ${redactUrls(url)} names no user: give the admin client's user name and password (mqtt://lambkin.cloud:<password>@host:port)`)
  return url
}

function retentionFromEnv (days: number | undefined): number | undefined {
  if (days !== undefined) return days
  const env = fromEnv('LAMBKIN_RETENTION_DAYS')
  if (env === undefined) return undefined
  if (!/^\d+$/.test(env) || Number(env) > MAX_RETENTION_DAYS) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `LAMBKIN_RETENTION_DAYS must be an integer from 0 to ${MAX_RETENTION_DAYS}; got ${JSON.stringify(env)}`)
  return Number(env)
}

export async function cloudCommand (argv: string[], io: CliIo): Promise<number> {
  if (argv[0] === 'migrate') return await (await import('./cloud-migrate.js')).cloudMigrateCommand(argv.slice(1), io)
  const run: Run = { code: 0 }
  const program = command('lambkin cloud', io)
    .description('Runs the cloud side: an MQTT broker for devices (TCP, and TLS with --tls-port) or, with --broker, a client of the fleet\'s own broker; a registry (LevelDB under --data, or PostgreSQL with --db); and the operator API. Prints one ready line; SIGINT/SIGTERM close it. lambkin cloud migrate --help: the PostgreSQL schema.')
    .requiredOption('--data <dir>', 'registry (without --db), operator token, signing key and everything kept across restarts')
    .option('--db <url>', 'keep the registry in PostgreSQL (postgres://user:password@host:5432/database; default LAMBKIN_DB_URL) instead of LevelDB under --data; its schema is migrated at start (docs/postgres.md)')
    .option('--retention-days <n>', `with --db: days records are kept, whole days dropped after; 0 keeps them for ever (default LAMBKIN_RETENTION_DAYS, else ${PG_DEFAULTS.retentionDays})`, intOption('--retention-days', 0, MAX_RETENTION_DAYS))
    .option('--follow-poll <ms>', `with --db: how often a waiting record follower (logs -f) reads the database when no note from an instance that stored records wakes it (default ${STORED_NOTES_DEFAULTS.slowPollMs}; ${STORED_NOTES_DEFAULTS.fastPollMs} while the bus is down)`, intOption('--follow-poll', 50, 600_000))
    .option('--broker <url>', 'run no broker: join the fleet\'s MQTT 5 broker as a client (mqtt(s)://user:password@host:port; default LAMBKIN_BROKER_URL), taking uploads from the shared subscription $share/lambkin-cloud/lambkin/v1/+/up/+; needs --db postgres://…, and any number of instances may run side by side (docs/scale-out.md)')
    .option('--session-expiry <s>', `with --broker: how long the broker keeps this instance's session once it is gone, holding the uploads it took and had not acknowledged and, on Mosquitto, its share of new ones; shorter sends them to the other instances sooner, but must outlast a reconnect (docs/scale-out.md, "Faults"; default ${EXTERNAL_BROKER_DEFAULTS.sessionExpirySec})`, intOption('--session-expiry', 0, 86_400))
    .option('--broker-ca <file>', 'with --broker mqtts://: a PEM CA file for a broker with a private CA')
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
    // No default value: commander would print "(default: [])" after the text.
    .option('--trust <file.pub>', 'a public key whose signed bundles this cloud takes (repeatable; from lambkin keys generate); with none, uploads are refused', (file: string, all: string[] | undefined) => [...(all ?? []), file])
    .option('--broker-admin [url]', 'manage device credentials on a Mosquitto 2 with the dynamic-security plugin: mqtt(s)://user:password@host:port of a client with its admin role (lambkin broker dynsec-init makes one; default LAMBKIN_BROKER_ADMIN; without a URL: the --broker one, and --broker-ca). devices add, rotate and revoke then create, re-key and delete the device\'s broker client and role (docs/brokers.md)')
    .option('--signing-key <file>', 'the private key that signs desired states (default LAMBKIN_SIGNING_KEY, else <data>/cloud-signing.key, made on the first start); cloud instances of one fleet share one. Devices trust <data>/cloud-signing.pub')
    .action(async (f: Flags & { brokerAdmin?: string | true }) => {
      const tlsGiven = [f.tlsPort, f.tlsCert, f.tlsKey].filter((x) => x !== undefined).length
      if (tlsGiven !== 0 && tlsGiven !== 3) throw new LambkinError(ErrorCodes.USAGE, '--tls-port, --tls-cert and --tls-key go together')
      if ((f.apiTlsCert === undefined) !== (f.apiTlsKey === undefined)) throw new LambkinError(ErrorCodes.USAGE, '--api-tls-cert and --api-tls-key go together')
      if (!f.plain && tlsGiven === 0) throw new LambkinError(ErrorCodes.USAGE, '--no-plain turns the plain MQTT port off, so it needs --tls-port, --tls-cert and --tls-key: devices would have nothing to connect to')
      const signingKey = f.signingKey ?? fromEnv('LAMBKIN_SIGNING_KEY')
      const db = dbFromEnv(f.db)
      const broker = f.broker ?? fromEnv('LAMBKIN_BROKER_URL')
      if (broker !== undefined && !/^postgres(ql)?:\/\//.test(db ?? '')) throw new LambkinError(ErrorCodes.USAGE, '--broker (LAMBKIN_BROKER_URL) needs --db postgres://… (or LAMBKIN_DB_URL): instances on an external broker share one PostgreSQL registry (docs/scale-out.md)')
      if (broker !== undefined && (tlsGiven !== 0 || !f.plain)) throw new LambkinError(ErrorCodes.USAGE, '--tls-port, --tls-cert, --tls-key and --no-plain are the embedded broker\'s; with --broker the devices\' TLS is the external broker\'s')
      if (broker === undefined && f.brokerCa !== undefined) throw new LambkinError(ErrorCodes.USAGE, '--broker-ca goes with --broker')
      if (broker === undefined && f.sessionExpiry !== undefined) throw new LambkinError(ErrorCodes.USAGE, '--session-expiry goes with --broker: the embedded broker keeps no session of the cloud\'s')
      if (db === undefined && f.followPoll !== undefined) throw new LambkinError(ErrorCodes.USAGE, '--follow-poll applies to the PostgreSQL registry: give --db too')
      if (db === undefined && f.retentionDays !== undefined) throw new LambkinError(ErrorCodes.USAGE, '--retention-days applies to the PostgreSQL registry: give --db too (the LevelDB registry keeps records until the device row goes)')
      const brokerAdmin = brokerAdminUrl(f.brokerAdmin, broker)
      const expiry = f.sessionExpiry === undefined ? {} : { sessionExpirySec: f.sessionExpiry }
      const opts: CloudOptions = {
        dataDir: f.data,
        host: f.host,
        port: f.port,
        plain: f.plain,
        apiPort: f.apiPort,
        apiHost: f.apiHost,
        maxConnections: f.maxConnections,
        keepaliveMaxSec: f.keepaliveMax,
        trustedKeys: f.trust ?? [],
        ...(brokerAdmin === undefined ? {} : { brokerAdmin: { url: brokerAdmin, ...(f.brokerCa === undefined ? {} : { caFile: f.brokerCa }) } }),
        ...(signingKey === undefined ? {} : { signingKeyFile: signingKey }),
        ...(db === undefined ? {} : { db: { url: db, retentionDays: retentionFromEnv(f.retentionDays), followPollMs: f.followPoll } }),
        ...(broker === undefined ? {} : { broker: { url: broker, ...(f.brokerCa === undefined ? {} : { caFile: f.brokerCa }), ...expiry } }),
        log: (line) => logLine(io, line)
      }
      if (f.tlsPort !== undefined && f.tlsCert !== undefined && f.tlsKey !== undefined) opts.tls = { port: f.tlsPort, certFile: f.tlsCert, keyFile: f.tlsKey }
      if (f.apiTlsCert !== undefined && f.apiTlsKey !== undefined) opts.apiTls = { certFile: f.apiTlsCert, keyFile: f.apiTlsKey }
      for (const [file, what] of [[f.tlsKey, 'the TLS key'], [f.apiTlsKey, 'the API\'s TLS key'], [signingKey, 'the desired-state signing key']] as const) {
        const w = file === undefined ? undefined : secretFileWarning(file, what)
        if (w !== undefined) logLine(io, w, 'warning')
      }
      const signals = untilSignal(io, 'uploads being committed and API requests')
      try {
        const cloud = await Cloud.create(opts)
        io.stdout(cloud.readyLine() + '\n')
        if (broker !== undefined && (f.port !== CLOUD_DEFAULTS.port || f.host !== CLOUD_DEFAULTS.host)) logLine(io, 'lambkin cloud: --host and --port are the embedded broker\'s and are not used with --broker', 'warning')
        io.stdout(`dashboard: ${cloud.api.url}/ (sign in with the operator token)\n`)
        logLine(io, `lambkin cloud: desired states are signed with ${cloud.signing.privateFile} (key ${cloud.signing.key.keyId}); devices trust ${cloud.signing.publicFile} beside the deploy key (trustedKeys, --trust)`, 'notice')
        if ((f.trust ?? []).length === 0) logLine(io, 'lambkin cloud: no --trust keys, so bundle uploads (lambkin deploy) are refused; add --trust <lambkin.pub>', 'warning')
        await signals.stopped
        await cloud.close()
        logLine(io, 'lambkin cloud stopped', 'notice')
      } finally {
        signals.dispose()
      }
    })
  return await runProgram(program, argv, io, run)
}

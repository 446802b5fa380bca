// The `lambkin` command: argument dispatch only; each command lives in its own file.
import { invokeCommand } from './commands/invoke.js'
import { isRemoteInvoke } from './needs-sandbox.js'
import { EXIT_USAGE } from './io.js'
import { VERSION } from '../src/version.js'
import type { CliIo } from './io.js'

export type { CliIo } from './io.js'

/**
 * What `lambkin --help` prints: every command and subcommand, one synopsis each.
 * docs/cli.md quotes it word for word (test/docs/cli.test.ts checks both).
 */
export const USAGE = `lambkin: functions in QuickJS sandboxes on small boards

usage: lambkin <command> [options]

  lambkin demo [--seconds N] [--data dir]
                                     a cloud and two boards, the examples deployed, simulated sensors
  lambkin invoke <fn-dir> [--event JSON|@file] [--state JSON|@file] [--timeout ms]
                 [--memory KiB] [--instructions N] [--layers dir] [--json]
  lambkin device [--config device.json] [--id id] [--data dir] [--functions dir] [--mqtt url]
                 [--broker-port n] [--metrics-port n] [--cloud url] [--trust file.pub]... [--quiet]
                 [--<any config key> value]...
  lambkin device install-service [the flags of lambkin device]... [--print]
                                     a systemd unit running the agent at boot
  lambkin outbox [--data <dir>] [--json] [--limit n] [--kind k]
  lambkin broker-passwd <username> [--publish filter]... [--subscribe filter]... [--retain]
                                     a user entry for the embedded broker (password on stdin)

The cloud side (operator commands take --api/LAMBKIN_API, --token/LAMBKIN_TOKEN, --json):
  lambkin cloud --data <dir> [--host addr] [--port n] [--api-port n] [--api-host addr]
                [--tls-port n --tls-cert file --tls-key file] [--no-plain]
                [--api-tls-cert file --api-tls-key file] [--max-connections n] [--keepalive-max s]
                [--trust file.pub]... [--signing-key file]
                [--db postgres://... [--retention-days n] [--follow-poll ms]]
                [--broker mqtt(s)://user:pass@host:port [--broker-ca f] [--session-expiry s]]
                [--broker-admin [url]]
  lambkin cloud migrate --db <url>    create or update the registry's tables in PostgreSQL
  lambkin broker dynsec-init --out <dir> [--host addr] [--port n] [--plugin file]
                                     Mosquitto 2 dynamic-security file and config for a new site
  lambkin devices [--limit n] [--after id]
                                     the devices the cloud knows, in id order, every page
  lambkin devices add <id> [--group g] register a device; prints its secret once
  lambkin devices rotate <id>         a new secret, printed once; the old one is cut off
  lambkin devices clear-conflict <id> forget a stream conflict once its cause is fixed
  lambkin devices revoke <id>         cut a device off: its connection closed, its connects refused
  lambkin keys generate [--out dir]   an ed25519 pair for signing bundles
  lambkin deploy <fn-dir> --to <device|group:name> [--alias live|canary] [--canary percent]
                 [--rate devices/min] [--abort-at failure%] [--timeout s] [--key file] [--layers dir]
                 [--no-wait]         sign, upload and roll out a function; live progress to the health verdict
  lambkin rollouts [--limit n]        the newest rollouts and how far each got
  lambkin rollout status <id>         a rollout and where each target stands
  lambkin rollout cancel <id>         stop a rollout (devices already moved stay moved)
  lambkin rollback <fn> --to <device|group:name> [--no-wait]
                                     back to the last version each device kept
  lambkin invoke --device <id> <fn> [--event JSON|@file] [--timeout ms]
                                     run a function on a board through the cloud
  lambkin status [--limit n] [--after id]
                                     every device: state, versions, backlog, what to fix
  lambkin results <device> [fn] [--limit n] [--before cursor] [--all]
  lambkin logs <device> [fn] [--limit n] [--before cursor] [--all] [-f]
  lambkin metrics <device> [fn]

Every command answers --help; lambkin --version prints the version.
`

type Command = (argv: string[], io: CliIo) => Promise<number>

const COMMANDS: Record<string, () => Promise<Command>> = {
  // `invoke --device` runs on a board through the cloud; without it, here in a sandbox.
  invoke: async () => async (argv, io) => isRemoteInvoke(argv)
    ? await (await import('./commands/invoke-remote.js')).remoteInvokeCommand(argv, io)
    : await invokeCommand(argv, io),
  // Loaded on demand so `lambkin invoke` never opens LevelDB's native module.
  outbox: async () => (await import('./commands/outbox.js')).outboxCommand,
  device: async () => (await import('./commands/device.js')).deviceCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  cloud: async () => (await import('./commands/cloud.js')).cloudCommand,
  devices: async () => (await import('./commands/devices.js')).devicesCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  results: async () => (await import('./commands/records.js')).resultsCommand,
  logs: async () => (await import('./commands/records.js')).logsCommand,
  metrics: async () => (await import('./commands/metrics.js')).metricsCommand,
  keys: async () => (await import('./commands/keys.js')).keysCommand,
  deploy: async () => (await import('./commands/deploy.js')).deployCommand,
  rollouts: async () => (await import('./commands/rollouts.js')).rolloutsCommand,
  rollout: async () => (await import('./commands/rollout.js')).rolloutCommand,
  rollback: async () => (await import('./commands/rollback.js')).rollbackCommand,
  'broker-passwd': async () => (await import('./commands/broker-passwd.js')).brokerPasswdCommand,
  broker: async () => (await import('./commands/broker.js')).brokerCommand
}

/** Every command's name, in the order `lambkin --help` lists them. */
export const COMMAND_NAMES: readonly string[] = Object.freeze(Object.keys(COMMANDS))

export { needsSandbox } from './needs-sandbox.js'

export async function main (argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(USAGE)
    return name === undefined ? EXIT_USAGE : 0
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout(`lambkin ${VERSION}\n`)
    return 0
  }
  // Own names only: `lambkin constructor` or `lambkin __proto__` is an unknown command, not Object's.
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (load === undefined) {
    io.stderr(`LAMBKIN_USAGE: unknown command "${name}"\n${USAGE}`)
    return EXIT_USAGE
  }
  return (await load())(rest, io)
}

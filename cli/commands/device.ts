// `lambkin device`: runs the agent in the foreground until SIGINT/SIGTERM, one line per
// invocation and publish on stderr, and a ready line on stdout that scripts can wait for.
import { Agent } from '../../device/index.js'
import type { InvocationRecord } from '../../device/index.js'
import { Option } from 'commander'
import type { Command } from 'commander'
import { camelCase, containerMarker, deviceConfigUsage, FLAGS, loadDeviceConfig, placeholder } from '../../device/config/index.js'
import type { DeviceConfig } from '../../device/config/index.js'
import { redactUrls } from '../../src/redact.js'
import { EXIT_OK, printError } from '../io.js'
import { logLine } from '../log.js'
import type { LogFn } from '../../src/log-priority.js'
import { command, runProgram } from '../program.js'
import type { Run } from '../program.js'
import { untilSignal } from '../signals.js'
import type { CliIo } from '../io.js'
import { logText } from '../../src/log-text.js'

export const DEVICE_USAGE = `usage: lambkin device [--config device.json] [--id id] [--data dir] [--functions dir]
                      [--mqtt url] [--broker-port n] [--metrics-port n] [--cloud url]
                      [--<config key as a flag> value]... [--trust file.pub]... [--quiet]
       lambkin device install-service [the same flags]... [--print]

Runs the agent until SIGINT or SIGTERM, then drains in-flight invocations and exits 0.
--quiet prints failed invocations only; what functions log (ctx.log) shows from the level
--function-logs names (default debug: all; off: none). Edits to the functions folder reload by
themselves (--watch-functions false: only at start). install-service writes a systemd unit
that runs it at boot (lambkin device install-service --help).
`

export function formatMs (ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)}ms` : `${Math.round(ms)}ms`
}

/**
 * One invocation as a log line. `retry.attempts` in function.json counts retries, so a retried
 * call says both numbers: "after 2 retries (3 attempts)".
 */
export function formatInvocation (rec: InvocationRecord): string {
  const retries = rec.attempts - 1
  const tries = retries > 0 ? ` after ${retries} ${retries === 1 ? 'retry' : 'retries'} (${rec.attempts} attempts)` : ''
  return rec.ok
    ? `[${rec.fn}] ok ${formatMs(rec.durationMs)}${tries}`
    : `[${rec.fn}] ${rec.code ?? 'LAMBKIN_FUNCTION_ERROR'}: ${rec.message ?? ''}${tries}`
}

/** Most characters of a topic or payload a `[publish]` line shows; longer ones are cut, with their size. */
export const PUBLISH_LINE_PART = 200

function cut (s: string): string {
  if (s.length <= PUBLISH_LINE_PART) return s
  // Never end on half a surrogate pair.
  const end = /[\ud800-\udbff]/.test(s[PUBLISH_LINE_PART - 1] ?? '') ? PUBLISH_LINE_PART - 1 : PUBLISH_LINE_PART
  return `${s.slice(0, end)}… (${Buffer.byteLength(s)} B)`
}

/**
 * The console line of one publish: `[publish] <topic> <payload>`, each cut at PUBLISH_LINE_PART
 * characters. A 65,535-byte topic and a 128 KiB payload made a ~190 KB line per publish, past
 * journald's 48 KiB LineMax (split into pieces) and written to the board's card each time.
 */
export function publishLine (topic: string, payload: string): string {
  return `[publish] ${cut(topic)} ${cut(payload)}`
}

function hostForUrl (host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

/** The one line printed when the agent is up; URL credentials are redacted. */
export function readyLine (config: DeviceConfig, agent: Agent): string {
  const none = config.cloud.url === undefined ? '(none)' : '(none yet: waiting for deployments from the cloud)'
  const parts = [`functions ${agent.functionNames.length === 0 ? none : agent.functionNames.join(',')}`]
  if (agent.brokerUrl !== undefined) parts.push(`broker ${agent.brokerUrl}`)
  if (config.mqtt.url !== undefined) parts.push(`triggers ${redactUrls(config.mqtt.url)}`)
  if (config.cloud.url !== undefined) parts.push(`cloud ${redactUrls(config.cloud.url)}`)
  if (agent.metricsPort !== undefined) parts.push(`metrics http://${hostForUrl(config.metricsHost)}:${agent.metricsPort}/metrics`)
  return `lambkin device ${config.id} ready: ${parts.join('; ')}`
}

/** What commander parses: every config flag (names.ts FLAGS) by its camelCase name, plus these. */
export type DeviceFlags = Record<string, string | boolean | string[] | undefined> & { trust?: string[], quiet?: boolean }

/** Flags shown in commander's option list; the rest are in the generated usage text's table. */
const LISTED: Readonly<Record<string, string>> = {
  config: 'JSON config file',
  id: 'device id',
  data: 'data folder (LevelDB outbox and state)',
  functions: 'folder of function folders',
  mqtt: 'the trigger broker',
  'broker-port': 'start an embedded MQTT broker on this port (0: any free port)',
  'metrics-port': 'serve Prometheus metrics on this port (0: any free port)',
  cloud: 'upload the outbox to this lambkin cloud (with cloud.password / LAMBKIN_CLOUD_PASSWORD)'
}

/**
 * Adds every config flag (one per schema key, names.ts) to a command: `lambkin device` and
 * `lambkin device install-service` take the same ones. Booleans may be given bare.
 */
export function configOptions (c: Command): Command {
  for (const f of FLAGS) {
    const opt = new Option(`--${f.name} ${placeholder(f.key)}`, LISTED[f.name] ?? f.help)
    c.addOption(LISTED[f.name] === undefined ? opt.hideHelp() : opt)
  }
  return c
    // No default value: commander would print "(default: [])" after the text.
    .option('--trust <file.pub>', 'trust deployed bundles signed with this public key (repeatable; added to trustedKeys)', (v: string, acc: string[] | undefined) => [...(acc ?? []), v])
}

/** The config flags given, by flag name, as loadDeviceConfig takes them. */
export function configFlagValues (flags: DeviceFlags): Record<string, string | boolean | undefined> {
  const values: Record<string, string | boolean | undefined> = {}
  for (const f of FLAGS) {
    const v = flags[camelCase(f.name)]
    if (typeof v === 'string' || typeof v === 'boolean') values[f.name] = v
  }
  return values
}

/** `lambkin device`: parses argv with commander; returns the exit code (0 stopped by a signal, 1 failed, 2 bad usage). */
export async function deviceCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: EXIT_OK }
  if (argv[0] === 'install-service') return await (await import('./install-service.js')).installServiceCommand(argv.slice(1), io)
  const program = configOptions(command('lambkin device', io, `${DEVICE_USAGE}\n${deviceConfigUsage()}`)
    .description('Runs the agent until SIGINT or SIGTERM, then drains in-flight invocations and exits 0. Flags override LAMBKIN_* variables, which override the config file. To run it at boot: lambkin device install-service --help.'))
    .option('--quiet', 'print failed invocations only')
    .addHelpText('after', `\n${deviceConfigUsage()}`)
    .action(async (flags: DeviceFlags) => { run.code = await runAgent(flags, io) })
  return await runProgram(program, argv, io, run)
}

async function runAgent (flags: DeviceFlags, io: CliIo): Promise<number> {
  const quiet = flags.quiet === true
  const values = configFlagValues(flags)
  // Signals are caught before start-up, so a Ctrl-C while functions load still closes cleanly.
  const signals = untilSignal(io)
  let agent: Agent | undefined
  try {
    const config = await loadDeviceConfig({ flags: values, env: process.env, trust: flags.trust, idRequired: containerMarker(process.env) })
    // Agent lines may quote a broker URL (reconnecting to ..., could not connect to ...).
    const log: LogFn = (line, priority) => logLine(io, redactUrls(line), priority)
    agent = await Agent.create(config, { log })
    agent.on('invocation', (rec: InvocationRecord) => {
      if (!quiet || !rec.ok) logLine(io, logText(formatInvocation(rec)), rec.ok ? 'info' : 'err')
    })
    if (!quiet) agent.on('publish', (p: { topic: string, payload: string }) => logLine(io, logText(publishLine(p.topic, p.payload)), 'info'))
    io.stdout(readyLine(config, agent) + '\n')
    await signals.stopped
    await agent.close()
    logLine(io, `lambkin device ${config.id} stopped`, 'notice')
    return EXIT_OK
  } catch (err) {
    await agent?.close().catch(() => {})
    return printError(io, err, false)
  } finally {
    signals.dispose()
  }
}

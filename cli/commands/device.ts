// `lambkin device`: runs the agent in the foreground until SIGINT/SIGTERM, one line per
// invocation and publish on stderr, and a ready line on stdout that scripts can wait for.
import { parseArgs } from 'node:util'
import { Agent } from '../../device/index.js'
import type { InvocationRecord } from '../../device/index.js'
import { deviceConfigUsage, loadDeviceConfig } from '../../device/config/index.js'
import type { DeviceConfig } from '../../device/config/index.js'
import { redactUrls } from '../../src/redact.js'
import { EXIT_OK, EXIT_USAGE, printError } from '../io.js'
import type { CliIo } from '../io.js'

export const DEVICE_USAGE = `usage: lambkin device [--config device.json] [--id id] [--data dir] [--functions dir]
                      [--mqtt url] [--broker-port n] [--metrics-port n] [--cloud url] [--quiet]

Runs the agent until SIGINT or SIGTERM, then drains in-flight invocations and exits 0.
--quiet prints failed invocations only.
`

const OPTIONS = {
  config: { type: 'string' },
  id: { type: 'string' },
  data: { type: 'string' },
  functions: { type: 'string' },
  mqtt: { type: 'string' },
  cloud: { type: 'string' },
  'broker-port': { type: 'string' },
  'metrics-port': { type: 'string' },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false }
} as const

/**
 * Resolves with the first SIGINT/SIGTERM, and keeps the process alive until then (or until
 * dispose). A second signal while closing quits at once: nothing acknowledged is lost by that
 * (the same as a kill -9), only the drain is cut short.
 */
export function untilSignal (io: CliIo): { stopped: Promise<string>, dispose: () => void } {
  let count = 0
  let resolve: (sig: string) => void = () => {}
  const stopped = new Promise<string>((r) => { resolve = r })
  const on = (sig: NodeJS.Signals): void => {
    if (++count === 1) {
      io.stderr(`${sig}: stopping, draining in-flight invocations (again to quit at once)\n`)
      resolve(sig)
    } else {
      io.stderr(`${sig}: quitting without draining\n`)
      process.exit(130)
    }
  }
  process.on('SIGINT', on)
  process.on('SIGTERM', on)
  // Signal listeners do not keep Node running: an agent with only schedule and sensor
  // triggers (unref'd timers) or none at all would otherwise exit 0 right after "ready".
  // The agent runs until it is told to stop, whatever its triggers (docs/architecture.md, "Parts").
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1)
  return {
    stopped,
    dispose: () => {
      clearInterval(keepAlive)
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
    }
  }
}

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

function hostForUrl (host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

/** The one line printed when the agent is up; URL credentials are redacted. */
export function readyLine (config: DeviceConfig, agent: Agent): string {
  const parts = [`functions ${agent.functionNames.length === 0 ? '(none)' : agent.functionNames.join(',')}`]
  if (agent.brokerUrl !== undefined) parts.push(`broker ${agent.brokerUrl}`)
  if (config.mqtt.url !== undefined) parts.push(`triggers ${redactUrls(config.mqtt.url)}`)
  if (config.cloud.url !== undefined) parts.push(`cloud ${redactUrls(config.cloud.url)}`)
  if (agent.metricsPort !== undefined) parts.push(`metrics http://${hostForUrl(config.metricsHost)}:${agent.metricsPort}/metrics`)
  return `lambkin device ${config.id} ready: ${parts.join('; ')}`
}

export async function deviceCommand (argv: string[], io: CliIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  try {
    const parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false })
    values = parsed.values
  } catch (err) {
    io.stderr(`LAMBKIN_USAGE: ${(err as Error).message}\n${DEVICE_USAGE}\n${deviceConfigUsage()}`)
    return EXIT_USAGE
  }
  if (values.help === true) {
    io.stdout(`${DEVICE_USAGE}\n${deviceConfigUsage()}`)
    return EXIT_OK
  }
  const quiet = values.quiet === true
  try {
  } catch (err) {
    return printError(io, err, false)
  }
  // Signals are caught before start-up, so a Ctrl-C while functions load still closes cleanly.
  const signals = untilSignal(io)
  let agent: Agent | undefined
  try {
    const config = await loadDeviceConfig({ flags: values, env: process.env })
    // Agent lines may quote a broker URL (reconnecting to ..., could not connect to ...).
    const log = (line: string): void => io.stderr(`${redactUrls(line)}\n`)
    agent = await Agent.create(config, { log })
    agent.on('invocation', (rec: InvocationRecord) => {
      if (!quiet || !rec.ok) io.stderr(formatInvocation(rec) + '\n')
    })
    if (!quiet) agent.on('publish', (p: { topic: string, payload: string }) => io.stderr(`[publish] ${p.topic} ${p.payload}\n`))
    io.stdout(readyLine(config, agent) + '\n')
    await signals.stopped
    await agent.close()
    io.stderr(`lambkin device ${config.id} stopped\n`)
    return EXIT_OK
  } catch (err) {
    await agent?.close().catch(() => {})
    return printError(io, err, false)
  } finally {
    signals.dispose()
  }
}

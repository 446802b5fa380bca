// `lambkin demo` (npm start): the agent with the repo's examples on its own embedded broker,
// fed by simulated room sensors, printing what happens and a summary of what was buffered.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { InvalidArgumentError } from 'commander'
import mqtt from 'mqtt'
import { Agent } from '../../device/index.js'
import type { InvocationRecord } from '../../device/index.js'
import { loadDeviceConfig } from '../../device/config/index.js'
import { LevelOutboxStore, RECORD_KINDS } from '../../device/store/index.js'
import type { StoreStats } from '../../device/store/index.js'
import { formatMs } from './device.js'
import { command, runProgram } from '../program.js'
import type { Run } from '../program.js'
import { untilSignal } from '../signals.js'
import { EXIT_OK, printError } from '../io.js'
import { parseDecimalNumber } from '../../src/decimal.js'
import type { CliIo } from '../io.js'
import { logText } from '../../src/log-text.js'
import { errorMessage } from '../../src/errors.js'

export const DEMO_USAGE = `usage: lambkin demo [--seconds N] [--data dir]

Starts an agent with the example functions on an embedded MQTT broker and simulated sensors
in three rooms. Runs until Ctrl-C, or for N seconds. Without --data the outbox lives in a
temporary folder that is removed at the end; with it, browse it later with lambkin outbox.
`

/** Resolved from this file, not the working directory, so `lambkin demo` works anywhere. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/', import.meta.url))

const TICK_MS = 500
const SENSOR_LINE_EVERY = 4
const MAX_SECONDS = 86_400

interface Room { name: string, tempBase: number, tempAmp: number, humBase: number, humAmp: number, periodMs: number, phase: number }

/** The greenhouse swings around the threshold-alarm's 70 and starts above it; the others stay clear. */
export const DEMO_ROOMS: readonly Room[] = Object.freeze([
  { name: 'greenhouse', tempBase: 68, tempAmp: 3.5, humBase: 70, humAmp: 8, periodMs: 20_000, phase: Math.PI / 2 },
  { name: 'office', tempBase: 21.5, tempAmp: 1, humBase: 42, humAmp: 4, periodMs: 40_000, phase: 0 },
  { name: 'server-room', tempBase: 27, tempAmp: 2.5, humBase: 33, humAmp: 3, periodMs: 30_000, phase: Math.PI }
])

export interface Reading { room: string, temperature: number, humidity: number }

/** Slow sine drift plus a mean-reverting random walk per room, one decimal like a real probe. */
export class SensorSimulator {
  readonly #rooms: readonly Room[]
  readonly #random: () => number
  readonly #walk: number[]

  constructor (rooms: readonly Room[] = DEMO_ROOMS, random: () => number = Math.random) {
    this.#rooms = rooms
    this.#random = random
    this.#walk = rooms.map(() => 0)
  }

  read (elapsedMs: number): Reading[] {
    return this.#rooms.map((r, i) => {
      const walk = this.#walk[i] = (this.#walk[i] ?? 0) * 0.9 + (this.#random() - 0.5) * 0.8
      const wave = Math.sin(2 * Math.PI * elapsedMs / r.periodMs + r.phase)
      const round = (v: number): number => Math.round(v * 10) / 10
      return {
        room: r.name,
        temperature: round(r.tempBase + r.tempAmp * wave + walk),
        humidity: round(Math.min(100, Math.max(0, r.humBase + r.humAmp * wave - 3 * walk)))
      }
    })
  }
}

function clockTime (): string {
  return new Date().toTimeString().slice(0, 8)
}

function describeResult (rec: InvocationRecord): string | undefined {
  if (!rec.ok) return `${rec.code ?? 'LAMBKIN_FUNCTION_ERROR'}: ${rec.message ?? ''}`
  if (rec.fn === 'room-average' && typeof rec.result === 'object' && rec.result !== null) {
    const rooms = Object.entries(rec.result as Record<string, { mean: number, n: number }>)
    return 'humidity ' + rooms.map(([room, s]) => `${room} ${s.mean}% (n=${s.n})`).join(', ')
  }
  if (rec.fn === 'heartbeat') return `beat ${JSON.stringify(rec.result)} (${formatMs(rec.durationMs)})`
  // threshold-alarm runs for every reading: it shows up through its alarms and the summary.
  return rec.fn === 'threshold-alarm' ? undefined : `ok ${formatMs(rec.durationMs)} ${JSON.stringify(rec.result)}`
}

function describePublish (topic: string, payload: string): string {
  try {
    const a = JSON.parse(payload) as { where?: string, value?: number, limit?: number, state?: string }
    if (a.state === 'raised') return `ALARM raised   ${a.where ?? '?'} at ${a.value ?? '?'} (limit ${a.limit ?? '?'})  -> ${topic}`
    if (a.state === 'cleared') return `alarm cleared  ${a.where ?? '?'} at ${a.value ?? '?'}  -> ${topic}`
  } catch {}
  return `publish ${topic} ${payload}`
}

function summary (seconds: number, counts: Map<string, { ok: number, failed: number }>, published: number, alarms: number, stats: StoreStats | undefined): string {
  const names = [...counts.keys()].sort()
  const width = Math.max(8, ...names.map((n) => n.length)) + 2
  const lines = [
    '', `Summary after ${seconds.toFixed(1)} s`,
    `  ${'function'.padEnd(width)}invocations  errors`,
    ...names.map((n) => {
      const c = counts.get(n) as { ok: number, failed: number }
      return `  ${n.padEnd(width)}${String(c.ok + c.failed).padStart(11)}  ${String(c.failed).padStart(6)}`
    }),
    `  sensor readings published: ${published}; alarm messages published: ${alarms}`
  ]
  if (stats !== undefined) {
    const kinds = RECORD_KINDS.filter((k) => stats.byKind[k].count > 0).map((k) => `${k} ${stats.byKind[k].count}`)
    lines.push(`  outbox: ${stats.count} records buffered (${kinds.join(', ') || 'none'}), ${stats.bytes} bytes, last seq ${stats.lastSeq}; ${stats.pendingPublishes} publishes pending`)
  }
  return lines.join('\n') + '\n'
}

/** `lambkin demo`: parses argv with commander; returns the exit code (0 done, 1 failed, 2 bad usage). */
export async function demoCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: EXIT_OK }
  const program = command('lambkin demo', io, DEMO_USAGE)
    .description(DEMO_USAGE.slice(DEMO_USAGE.indexOf('\n\n') + 2).trim().replace(/\s*\n\s*/g, ' '))
    .option('--seconds <N>', `stop after N seconds (above 0, at most ${MAX_SECONDS})`, (raw: string) => {
      const n = parseDecimalNumber(raw)
      if (n === undefined || n <= 0 || n > MAX_SECONDS) throw new InvalidArgumentError(`--seconds must be a number above 0 and at most ${MAX_SECONDS}`)
      return n
    })
    .option('--data <dir>', 'keep the outbox in this folder (default: a temporary one, removed at the end)')
    .action(async (f: { seconds?: number, data?: string }) => { run.code = await runDemo(f.seconds, f.data, io) })
  return await runProgram(program, argv, io, run)
}

async function runDemo (seconds: number | undefined, dataArg: string | undefined, io: CliIo): Promise<number> {
  const dataDir = dataArg !== undefined ? path.resolve(dataArg) : mkdtempSync(path.join(tmpdir(), 'lambkin-demo-'))
  const signals = untilSignal(io)
  let agent: Agent | undefined
  let client: mqtt.MqttClient | undefined
  let ticker: NodeJS.Timeout | undefined
  let deadline: NodeJS.Timeout | undefined
  try {
    const config = await loadDeviceConfig({ env: {}, flags: { id: 'demo', data: dataDir, functions: EXAMPLES_DIR, 'broker-port': '0', 'metrics-port': '0' } })
    const counts = new Map<string, { ok: number, failed: number }>()
    let alarms = 0
    let published = 0
    const say = (line: string): void => io.stdout(`${clockTime()}  ${logText(line)}\n`)
    agent = await Agent.create(config, { log: (line) => io.stderr(`${clockTime()}  agent: ${line}\n`) })
    for (const name of agent.functionNames) counts.set(name, { ok: 0, failed: 0 })
    agent.on('invocation', (rec: InvocationRecord) => {
      const c = counts.get(rec.fn) ?? { ok: 0, failed: 0 }
      if (rec.ok) c.ok++
      else c.failed++
      counts.set(rec.fn, c)
      const text = describeResult(rec)
      if (text !== undefined) say(`${rec.fn.padEnd(16)}${text}`)
    })
    agent.on('publish', (p: { topic: string, payload: string }) => {
      if (p.topic.startsWith('alarms/')) alarms++
      say(describePublish(p.topic, p.payload))
    })
    const broker = `mqtt://127.0.0.1:${agent.brokerPort ?? 0}`
    io.stdout([
      `lambkin demo: device "${config.id}" running ${agent.functionNames.join(', ')}`,
      `  broker   ${broker}   (watch: mosquitto_sub -p ${agent.brokerPort ?? 0} -t 'alarms/#' -v)`,
      `  metrics  http://127.0.0.1:${agent.metricsPort ?? 0}/metrics`,
      `  data     ${dataDir}`,
      `Simulated sensors in ${DEMO_ROOMS.map((r) => r.name).join(', ')} publish sensors/<room>/temperature and /humidity every ${TICK_MS} ms.`,
      seconds === undefined ? 'Press Ctrl-C to stop.' : `Stopping after ${seconds} s.`,
      ''
    ].join('\n'))

    const mqttClient = client = await mqtt.connectAsync(broker, { clientId: 'lambkin-demo-sensors', reconnectPeriod: 500 })
    const sim = new SensorSimulator()
    const started = Date.now()
    let ticks = 0
    const tick = (): void => {
      const readings = sim.read(Date.now() - started)
      for (const r of readings) {
        mqttClient.publish(`sensors/${r.room}/temperature`, JSON.stringify({ value: r.temperature }), { qos: 1 })
        mqttClient.publish(`sensors/${r.room}/humidity`, String(r.humidity), { qos: 1 })
        published += 2
      }
      if (ticks++ % SENSOR_LINE_EVERY === 0) say('sensors         ' + readings.map((r) => `${r.room} ${r.temperature}°C ${r.humidity}%`).join('   '))
    }
    tick()
    ticker = setInterval(tick, TICK_MS)
    const stop = seconds === undefined
      ? signals.stopped
      : Promise.race([signals.stopped, new Promise<void>((resolve) => { deadline = setTimeout(resolve, (seconds as number) * 1000) })])
    await stop
    clearInterval(ticker)
    clearTimeout(deadline)
    await mqttClient.endAsync()
    client = undefined
    await agent.close()
    agent = undefined
    const stats = await readStats(dataDir, io)
    io.stdout(summary((Date.now() - started) / 1000, counts, published, alarms, stats))
    if (dataArg !== undefined) io.stdout(`  browse it: lambkin outbox --data ${dataDir}\n`)
    return EXIT_OK
  } catch (err) {
    return printError(io, err, false)
  } finally {
    clearInterval(ticker)
    clearTimeout(deadline)
    signals.dispose()
    await client?.endAsync(true).catch(() => {})
    await agent?.close().catch(() => {})
    if (dataArg === undefined) rmSync(dataDir, { recursive: true, force: true })
  }
}

/** The agent has closed, so its LevelDB lock is free; a failure here only costs the last line. */
async function readStats (dir: string, io: CliIo): Promise<StoreStats | undefined> {
  let store: LevelOutboxStore | undefined
  try {
    store = await LevelOutboxStore.open({ dir, createIfMissing: false })
    return await store.stats()
  } catch (err) {
    io.stderr(`outbox stats unavailable: ${errorMessage(err)}\n`)
    return undefined
  } finally {
    await store?.close().catch(() => {})
  }
}

// The soak's world, shared by test/e2e/soak-*.test.ts and bench/soak: `lambkin cloud` and
// `lambkin device` as child processes, Mosquitto as the trigger broker (its sessions kept on
// disk across a restart), a steady QoS 1 load from a publisher with its own persistent
// session, a subscriber for what functions publish, a sysfs-style sensor file, and the
// figures the soak prints (messages, kills, p99, RSS high-water).
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import type { MqttClient } from 'mqtt'
import { freePort, startMosquitto } from './brokers.js'
import type { Mosquitto } from './brokers.js'
import { startLambkin, writeFunctions } from '../e2e/fixtures/lambkin-process.js'
import type { LambkinProcess } from '../e2e/fixtures/lambkin-process.js'
import { HEALTHY, percentile } from './soak-checks.js'
import type { SoakFigures, SoakRecord } from './soak-checks.js'

export { HEALTHY, deliveryProblems, figuresLine, isolationProblems, percentile } from './soak-checks.js'
export type { SoakFigures, SoakRecord } from './soak-checks.js'

export const DEVICE_ID = 'soak-01'

export const HOSTILE = Object.freeze(['bomb', 'spin', 'flood'])

/**
 * The soak's functions. Healthy: `work` on the load (QoS 1), publishing `done/<topic>` after
 * its commit; `probe` on a thermal-zone file, publishing `probe-out`; `tick` every second.
 * Hostile, beside them all along: `bomb` grows an array to its memory cap, `spin` loops until
 * its timeout, `flood` logs just under its 64 KiB log budget every second.
 */
export function soakFunctions (sensorFile: string): Record<string, { manifest: Record<string, unknown>, code: string }> {
  return {
    work: {
      manifest: { triggers: [{ mqtt: 'load/+', qos: 1 }], limits: { timeoutMs: HEALTHY.work }, permissions: { publish: ['done/#'] } },
      code: "export default (e, ctx) => { let h = 0; for (let i = 0; i < 2000; i++) h = (h * 31 + i) | 0; ctx.publish('done/' + e.topic.slice(5), { id: e.payload.id }, { qos: 1 }); return { id: e.payload.id, topic: e.topic, t: e.payload.t, h } }"
    },
    probe: {
      manifest: { triggers: [{ sensor: 'zone0', path: sensorFile, everyMs: 200, scale: 0.001 }], limits: { timeoutMs: HEALTHY.probe }, permissions: { publish: ['probe-out'] } },
      code: "export default (e, ctx) => { ctx.publish('probe-out', { v: e.value }, { qos: 1 }); return { v: e.value } }"
    },
    tick: {
      manifest: { triggers: [{ schedule: '* * * * * *' }], limits: { timeoutMs: HEALTHY.tick } },
      code: 'export default (e) => ({ at: e.scheduledTime })'
    },
    bomb: {
      manifest: { triggers: [{ schedule: '* * * * * *' }], limits: { timeoutMs: 5000, instructions: 1e12 } },
      code: 'export default () => { const a = []; while (true) a.push(new Array(1000).fill(1)) }'
    },
    spin: {
      manifest: { triggers: [{ schedule: '* * * * * *' }], limits: { timeoutMs: 300, instructions: 1e12 } },
      code: 'export default () => { while (true) {} }'
    },
    flood: {
      manifest: { triggers: [{ schedule: '* * * * * *' }] },
      code: "export default (e, ctx) => { const line = 'x'.repeat(1000); for (let i = 0; i < 60; i++) ctx.log(i + ' ' + line) }"
    }
  }
}

export interface DeviceView { state: string, highWater: number, stream: string | null, streams: number, conflict: unknown, counts: Record<string, number> }

export async function until (what: string | (() => string), check: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Resident set size of a process in bytes (VmRSS), or undefined once it is gone. */
export function rssOf (pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? undefined : Number(m[1]) * 1024
  } catch {
    return undefined
  }
}

/** `cp -r` as a shell would run it; resolves with its exit code and what it said. */
export async function copyTree (from: string, to: string): Promise<{ code: number | null, stderr: string }> {
  return await new Promise((resolve) => {
    const child = spawn('cp', ['-r', from, to], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('close', (code) => resolve({ code, stderr }))
  })
}

/**
 * A steady QoS 1 load: `ratePerSec` messages `{ id, t }` spread over `load/0..topics-1`, from
 * one client with a persistent session (clean: false), which MQTT.js sends again after a
 * reconnect until each is acknowledged, and queues while the broker is away.
 */
export class Load {
  readonly acked = new Set<number>()
  sent = 0
  readonly #client: MqttClient
  readonly #rate: number
  readonly #topics: number
  #timer: ReturnType<typeof setInterval> | undefined

  constructor (url: string, opts: { ratePerSec: number, topics?: number }) {
    this.#client = mqtt.connect(url, { clientId: 'soak-publisher', clean: false, reconnectPeriod: 200, connectTimeout: 5000 })
    this.#client.on('error', () => {})
    this.#rate = opts.ratePerSec
    this.#topics = opts.topics ?? 3
  }

  start (): void {
    const tickMs = 50
    let owed = 0
    this.#timer = setInterval(() => {
      owed += this.#rate * tickMs / 1000
      for (; owed >= 1; owed--) {
        const id = this.sent++
        this.#client.publish(`load/${id % this.#topics}`, JSON.stringify({ id, t: Date.now() }), { qos: 1 }, (err) => { if (err == null) this.acked.add(id) })
      }
    }, tickMs)
  }

  /** Stops sending and waits until the broker acknowledged every message sent. */
  async stop (timeoutMs = 60_000): Promise<void> {
    clearInterval(this.#timer)
    await until(() => `the broker to acknowledge all ${this.sent} load messages (has ${this.acked.size})`, () => this.acked.size === this.sent, timeoutMs)
  }

  async close (): Promise<void> {
    clearInterval(this.#timer)
    await this.#client.endAsync(true)
  }
}

/** What functions publish, as a subscriber with a persistent session receives it, in arrival order. */
export class Outputs {
  readonly done: Array<{ id: number, at: number }> = []
  readonly probe: number[] = []
  readonly #client: MqttClient

  constructor (url: string) {
    this.#client = mqtt.connect(url, { clientId: 'soak-subscriber', clean: false, reconnectPeriod: 200, connectTimeout: 5000 })
    this.#client.on('error', () => {})
    this.#client.on('connect', (ack) => { if (!ack.sessionPresent) this.#client.subscribe(['done/#', 'probe-out'], { qos: 1 }) })
    this.#client.on('message', (topic, payload) => {
      const p = JSON.parse(payload.toString()) as { id?: number, v?: number }
      if (topic === 'probe-out') this.probe.push(p.v as number)
      else this.done.push({ id: p.id as number, at: Date.now() })
    })
  }

  async ready (): Promise<void> {
    await until('the subscriber to connect', () => this.#client.connected, 30_000)
  }

  async close (): Promise<void> {
    await this.#client.endAsync(true)
  }
}

/** The world: a trigger broker, a cloud and an agent, each stopped and started at will. */
export class Soak {
  readonly root: string
  readonly sensorFile: string
  readonly functionsDir: string
  agentData: string
  cloudData: string
  mosquitto: Mosquitto | undefined
  cloud: LambkinProcess | undefined
  agent: LambkinProcess | undefined
  metricsUrl = ''
  env: Record<string, string> = {}
  agentKills = 0
  cloudKills = 0
  brokerOutages = 0
  /** VmRSS samples of the agent's process (bytes), with the agent's start count at each. */
  readonly rss: Array<{ life: number, bytes: number }> = []
  #lives = 0
  #sampler: ReturnType<typeof setInterval> | undefined
  #secret = ''
  #ports = { broker: 0, cloud: 0, api: 0 }
  readonly #mosquittoDir: string
  #sensorValue = 20_000

  private constructor (root: string) {
    this.root = root
    this.agentData = path.join(root, 'agent-data')
    this.cloudData = path.join(root, 'cloud-data')
    this.sensorFile = path.join(root, 'sys/class/thermal/thermal_zone0/temp')
    this.functionsDir = path.join(root, 'functions')
    // Its own folder straight under tmp: Mosquitto started as root writes it as its own user.
    this.#mosquittoDir = mkdtempSync(path.join(tmpdir(), 'lambkin-soak-mosquitto-'))
    chmodSync(this.#mosquittoDir, 0o777)
  }

  static async create (): Promise<Soak> {
    const s = new Soak(mkdtempSync(path.join(tmpdir(), 'lambkin-soak-')))
    mkdirSync(path.dirname(s.sensorFile), { recursive: true })
    s.writeSensor()
    writeFunctions(s.functionsDir, soakFunctions(s.sensorFile))
    s.#ports = { broker: await freePort(), cloud: await freePort(), api: await freePort() }
    await s.startBroker()
    await s.startCloud()
    const added = await s.api<{ secret: string }>('POST', '/v1/devices', { id: DEVICE_ID })
    if (added.status !== 201) throw new Error(`devices add: ${added.status} ${JSON.stringify(added.body)}`)
    s.#secret = added.body.secret
    return s
  }

  get brokerUrl (): string { return `mqtt://127.0.0.1:${this.#ports.broker}` }

  /** The device's secret, as `lambkin devices add` gave it. */
  get secret (): string { return this.#secret }

  /** Moves the thermal zone on by 10 m°C, written as the kernel does (one short write). */
  writeSensor (): number {
    this.#sensorValue += 10
    writeFileSync(this.sensorFile, `${this.#sensorValue}\n`)
    return this.#sensorValue / 1000
  }

  /** Mosquitto with its sessions and queues on disk, saved when it stops, and deep queues. */
  async startBroker (): Promise<void> {
    this.mosquitto = await startMosquitto(['persistence true', `persistence_location ${this.#mosquittoDir}/`, 'max_queued_messages 1000000', 'max_inflight_messages 100'], {}, this.#ports.broker)
  }

  async stopBroker (): Promise<void> {
    await this.mosquitto?.stop()
    this.mosquitto = undefined
    this.brokerOutages++
  }

  async startCloud (dataDir = this.cloudData): Promise<void> {
    this.cloudData = dataDir
    this.cloud = startLambkin(['cloud', '--data', dataDir, '--port', String(this.#ports.cloud), '--api-port', String(this.#ports.api)])
    const ready = await this.cloud.waitFor('stdout', /lambkin cloud ready: broker (\S+); api (\S+); operator token in (\S+)/, 60_000)
    this.env = { LAMBKIN_API: ready[2], LAMBKIN_TOKEN: readFileSync(ready[3], 'utf8').trim(), BROKER: ready[1] }
  }

  async stopCloud (signal: NodeJS.Signals): Promise<{ code: number | null, signal: NodeJS.Signals | null } | undefined> {
    const r = await this.cloud?.stop(signal)
    if (signal === 'SIGKILL') this.cloudKills++
    this.cloud = undefined
    return r
  }

  /** `lambkin device` on `dataDir`, with the trigger broker and the cloud; resolves when ready. */
  async startAgent (dataDir = this.agentData, extra: Record<string, unknown> = {}): Promise<void> {
    this.agentData = dataDir
    const config = path.join(this.root, 'device.json')
    writeFileSync(config, JSON.stringify({
      id: DEVICE_ID,
      dataDir,
      functionsDir: this.functionsDir,
      metricsPort: 0,
      metricsSnapshotMs: 5000,
      mqtt: { url: this.brokerUrl, reconnectMs: 200 },
      cloud: { url: this.env.BROKER, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 500, ackTimeoutMs: 5000 },
      ...extra
    }))
    this.agent = startLambkin(['device', '--config', config, '--quiet'], { env: { LAMBKIN_CLOUD_PASSWORD: this.#secret } })
    this.metricsUrl = (await this.agent.waitFor('stdout', new RegExp(`lambkin device ${DEVICE_ID} ready: .*metrics (\\S+)`), 60_000))[1]
    const life = ++this.#lives
    clearInterval(this.#sampler)
    const pid = this.agent.child.pid
    this.#sampler = setInterval(() => {
      const bytes = rssOf(pid)
      if (bytes !== undefined) this.rss.push({ life, bytes })
    }, 250)
  }

  async stopAgent (signal: NodeJS.Signals): Promise<{ code: number | null, signal: NodeJS.Signals | null } | undefined> {
    clearInterval(this.#sampler)
    const r = await this.agent?.stop(signal)
    if (signal === 'SIGKILL') this.agentKills++
    this.agent = undefined
    return r
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) a process: the other side of a copy holds still. */
  pause (p: LambkinProcess | undefined, on: boolean): void {
    p?.child.kill(on ? 'SIGSTOP' : 'SIGCONT')
  }

  async api<T = Record<string, unknown>>(method: string, route: string, body?: unknown): Promise<{ status: number, body: T }> {
    const res = await fetch(`${this.env.LAMBKIN_API}${route}`, {
      method,
      headers: { authorization: `Bearer ${this.env.LAMBKIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000)
    })
    return { status: res.status, body: await res.json() as T }
  }

  async device (): Promise<DeviceView> {
    const r = await this.api<DeviceView>('GET', `/v1/devices/${DEVICE_ID}`)
    if (r.status !== 200) throw new Error(`device: ${r.status} ${JSON.stringify(r.body)}`)
    return r.body
  }

  /** Every record the cloud holds of `stream` (default: the device's current one), in seq order; of function `fn` only if given. */
  async records (stream?: string, fn?: string): Promise<SoakRecord[]> {
    const s = stream ?? (await this.device()).stream
    if (s === null) return []
    const out: SoakRecord[] = []
    for (;;) {
      const after = out.length === 0 ? 0 : out[out.length - 1].seq
      const r = await this.api<{ records: SoakRecord[] }>('GET', `/v1/devices/${DEVICE_ID}/records?stream=${s}&after=${after}&limit=10000${fn === undefined ? '' : `&fn=${fn}`}`)
      if (r.status !== 200) throw new Error(`records: ${r.status} ${JSON.stringify(r.body)}`)
      const page = r.body.records.filter((x) => (x.stream ?? s) === s)
      out.push(...page)
      if (page.length < 10_000) return out
    }
  }

  /** The agent's Prometheus text. */
  async metrics (): Promise<string> {
    return await (await fetch(this.metricsUrl, { signal: AbortSignal.timeout(10_000) })).text()
  }

  /** Copies a data folder the way a power cut would leave it to a fresh process (cp -r). */
  async copyData (from: string, name: string): Promise<{ dir: string, code: number | null, stderr: string }> {
    const dir = path.join(this.root, name)
    const r = await copyTree(from, dir)
    return { dir, ...r }
  }

  /** Figures over the records the cloud holds and the RSS samples of the agent's longest life. */
  figures (records: SoakRecord[], messages: number): SoakFigures {
    const healthy = records.filter((r) => r.kind === 'result' && r.fn !== undefined && r.fn in HEALTHY)
    const durations = healthy.map((r) => Number(r.data.durationMs))
    const latencies = healthy.filter((r) => r.fn === 'work').map((r) => r.time - Number((r.data.result as { t: number }).t))
    const samples = this.lifeSamples()
    const third = Math.max(1, Math.floor(samples.length / 3))
    return {
      messages,
      agentKills: this.agentKills,
      cloudKills: this.cloudKills,
      brokerOutages: this.brokerOutages,
      p99DurationMs: percentile(durations, 99),
      p99LatencyMs: percentile(latencies, 99),
      rssHighWaterBytes: Math.max(0, ...this.rss.map((s) => s.bytes)),
      rssFirstThirdBytes: Math.max(0, ...samples.slice(0, third)),
      rssLastThirdBytes: Math.max(0, ...samples.slice(-third))
    }
  }

  /** RSS samples of the agent's longest-running life, in order. */
  lifeSamples (): number[] {
    const byLife = new Map<number, number[]>()
    for (const s of this.rss) byLife.set(s.life, [...(byLife.get(s.life) ?? []), s.bytes])
    return [...byLife.values()].sort((a, b) => b.length - a.length)[0] ?? []
  }

  /** Stops everything this world started and removes its folders. */
  async cleanup (): Promise<void> {
    clearInterval(this.#sampler)
    for (const p of [this.agent, this.cloud]) {
      if (p === undefined) continue
      p.child.kill('SIGCONT')
      await p.stop('SIGKILL').catch(() => {})
    }
    await this.mosquitto?.stop().catch(() => {})
    rmSync(this.root, { recursive: true, force: true })
    rmSync(this.#mosquittoDir, { recursive: true, force: true })
  }
}

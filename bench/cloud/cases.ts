// One bench/cloud case per process: the cloud (or a plain aedes peer) runs here and is what
// is measured; load comes from loadgen.js children. Prints one JSON line.
//   ingest <cloud|aedes>   20 devices upload batches; records/s stored and acked
//   drain                  one device's 100,000 buffered records, reconnect to last ack
//   fleet                  1,000 devices connected and heartbeating: RSS per device, CPU per heartbeat
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Aedes } from 'aedes'
import { Cloud } from '../../cloud-sync/index.js'
import { GENERATED_SECRET_PARAMS, hashPassword } from '../../src/secrets.js'

const LOADGEN = fileURLToPath(new URL('./loadgen.js', import.meta.url))
const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuv'
const [which, kind] = process.argv.slice(2)

/** Runs a loadgen child; resolves with every JSON line it printed. onLine sees each as it comes. */
function loadgen (args: string[], onLine: (o: Record<string, number>) => void = () => {}): Promise<Array<Record<string, number>>> {
  // BENCH_LOADGEN_FLAGS: Node flags for the load side (the drain's device), e.g. "--cpu-prof".
  const flags = process.env.BENCH_LOADGEN_FLAGS?.split(' ').filter((x) => x !== '') ?? []
  const child = spawn(process.execPath, [...flags, LOADGEN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: Array<Record<string, number>> = []
  let buf = ''
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString()
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const o = JSON.parse(buf.slice(0, i)) as Record<string, number>
      buf = buf.slice(i + 1)
      lines.push(o)
      onLine(o)
    }
  })
  return new Promise((resolve, reject) => child.on('exit', (code) => code === 0 ? resolve(lines) : reject(new Error(`loadgen ${args[0]} exited ${String(code)}`))))
}

async function withCloud<T> (devices: string[], fn: (cloud: Cloud) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-cloud-'))
  const cloud = await Cloud.create({ dataDir: dir, port: 0, apiPort: 0 })
  try {
    const hash = await hashPassword(SECRET, GENERATED_SECRET_PARAMS)
    for (const id of devices) await cloud.registry.addDevice({ id, secretHash: hash, createdAt: Date.now() })
    return await fn(cloud)
  } finally {
    await cloud.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const DEVICES = 20
const BATCHES = 60
const PER_BATCH = 500

async function ingest (): Promise<Record<string, number>> {
  const ids = Array.from({ length: DEVICES }, (_, i) => `bench-${i}`)
  if (kind === 'aedes') {
    const broker = await Aedes.createBroker()
    const server = net.createServer(broker.handle)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    try {
      const cpu = process.cpuUsage()
      const [r] = await loadgen(['ingest', 'aedes', String((server.address() as net.AddressInfo).port), String(DEVICES), String(BATCHES), String(PER_BATCH), SECRET])
      return { ...r, cpuSeconds: process.cpuUsage(cpu).user / 1e6 }
    } finally {
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      server.close()
    }
  }
  return await withCloud(ids, async (cloud) => {
    const cpu = process.cpuUsage()
    const [r] = await loadgen(['ingest', 'cloud', String(cloud.broker.port), String(DEVICES), String(BATCHES), String(PER_BATCH), SECRET])
    const stored = cloud.ingest.counters.recordsStored
    if (stored !== DEVICES * BATCHES * PER_BATCH) throw new Error(`stored ${stored} records, expected ${DEVICES * BATCHES * PER_BATCH}`)
    return { ...r, stored, cpuSeconds: process.cpuUsage(cpu).user / 1e6 }
  })
}

async function drain (): Promise<Record<string, number>> {
  return await withCloud(['bench-drain'], async (cloud) => {
    // The cloud's CPU while the device fills its outbox is next to nothing: it idles until the link connects.
    const cpu = process.cpuUsage()
    const [r] = await loadgen(['drain', String(cloud.broker.port), SECRET, '100000'])
    const used = process.cpuUsage(cpu)
    const dev = await cloud.registry.getDevice('bench-drain')
    if (dev?.highWater !== 100_000) throw new Error(`high-water ${String(dev?.highWater)}, expected 100000`)
    return { ...r, cloudCpuSeconds: (used.user + used.system) / 1e6, loadAverage: loadavg()[0] }
  })
}

const rssMiB = (): number => process.memoryUsage.rss() / 1024 ** 2

async function fleet (): Promise<Record<string, number>> {
  const N = 1000
  const PROCS = 4
  const EVERY_MS = 1000
  const SECONDS = 10
  const ids = Array.from({ length: N }, (_, i) => `fleet-${i}`)
  return await withCloud(ids, async (cloud) => {
    global.gc?.()
    const before = rssMiB()
    let connected = 0
    let cpu: NodeJS.CpuUsage | undefined
    let after = 0
    let seen = 0
    const onLine = (o: Record<string, number>): void => {
      if (o.connected === undefined) return
      connected += o.connected
      if (connected === N) { global.gc?.(); after = rssMiB(); seen = cloud.broker.connected().length; cpu = process.cpuUsage() }
    }
    const per = N / PROCS
    const results = await Promise.all(Array.from({ length: PROCS }, async (_, p) => await loadgen(['fleet', String(cloud.broker.port), SECRET, String(p * per), String(per), String(EVERY_MS), String(SECONDS)], onLine)))
    const used = process.cpuUsage(cpu)
    const heartbeats = results.reduce((n, lines) => n + (lines.find((l) => l.heartbeats !== undefined)?.heartbeats ?? 0), 0)
    return {
      devices: N,
      connectedOnCloud: seen,
      rssBeforeMiB: before,
      rssAfterMiB: after,
      kiBPerDevice: ((after - before) * 1024) / N,
      heartbeats,
      cpuUsPerHeartbeat: (used.user + used.system) / heartbeats
    }
  })
}

const cases: Record<string, () => Promise<Record<string, number>>> = { ingest, drain, fleet }
console.log(JSON.stringify(await (cases[which] ?? (async () => { throw new Error(`unknown case ${which}`) }))()))

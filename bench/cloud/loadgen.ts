// Load generators for bench/cloud, each in a process of its own so the cloud's process is
// measured alone. Modes:
//   ingest <cloud|aedes> <port> <devices> <batches> <records> <secret>  devices upload batches
//   drain <port> <secret> <records>                                     one device's outbox drains (and a raw LevelDB read of it, the peer)
//   fleet <port> <secret> <first> <count> <heartbeatMs> <seconds>       devices heartbeat
// Each prints one JSON line.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import mqtt from 'mqtt'
import type { MqttClient } from 'mqtt'
import { CloudLink } from '../../device/sync/index.js'
import { UPLOAD_WINDOW } from '../../device/sync/uploader.js'
import { Level } from 'level'
import { LevelOutboxStore, storePath } from '../../device/store/index.js'
import { systemClock } from '../../src/clock.js'
import { decodeFrame, downTopic, encodeFrame, parseAck, upTopic } from '../../src/wire/index.js'

const [mode, ...args] = process.argv.slice(2)

function connect (port: number, id: string, secret: string): Promise<MqttClient> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: id, username: id, password: secret, reconnectPeriod: 0, connectTimeout: 30_000, clean: true })
  return new Promise((resolve, reject) => { c.once('connect', () => resolve(c)); c.once('error', reject) })
}

/** One record as an agent writes it: a result of ~100 bytes. */
const record = (seq: number): Record<string, unknown> => ({ seq, kind: 'result', fn: 'threshold', time: 1_800_000_000_000 + seq, data: { invocationId: `i-${seq}`, result: { value: 21.5, alarm: false }, durationMs: 0.4, attempts: 1 } })

async function ingest (): Promise<void> {
  const [kind, portS, devicesS, batchesS, recordsS, secret] = args
  const [port, devices, batches, perBatch] = [portS, devicesS, batchesS, recordsS].map(Number)
  const clients = await Promise.all(Array.from({ length: devices }, async (_, i) => await connect(port, `bench-${i}`, secret)))
  const WINDOW = 2
  const warm = Math.max(2, Math.floor(batches / 10))
  let t0 = 0
  let started = 0
  const run = async (c: MqttClient, i: number): Promise<void> => {
    const id = `bench-${i}`
    if (kind === 'cloud') await c.subscribeAsync(downTopic(id, 'ack'), { qos: 1 })
    let acked = 0
    const waiters: Array<() => void> = []
    c.on('message', (_t, payload) => { acked = parseAck(decodeFrame(payload, 1024)).seq; for (const w of waiters.splice(0)) w() })
    const frames = Array.from({ length: batches }, (_, b) => encodeFrame({ records: Array.from({ length: perBatch }, (_, k) => record(b * perBatch + k + 1)) }))
    let inflight = 0
    let done = 0
    await new Promise<void>((resolve) => {
      let next = 0
      const pump = (): void => {
        while (inflight < WINDOW && next < batches) {
          const b = next++
          if (b === warm && ++started === devices) t0 = performance.now()
          inflight++
          if (kind === 'cloud') {
            const through = (b + 1) * perBatch
            c.publish(upTopic(id, 'batch'), frames[b], { qos: 1 })
            const wait = (): void => { if (acked >= through) { inflight--; if (++done === batches) resolve(); else pump() } else waiters.push(wait) }
            waiters.push(wait)
          } else {
            c.publish(`bench/${id}/up/batch`, frames[b], { qos: 1 }, () => { inflight--; if (++done === batches) resolve(); else pump() })
          }
        }
      }
      pump()
    })
  }
  await Promise.all(clients.map(run))
  const seconds = (performance.now() - t0) / 1000
  const records = devices * (batches - warm) * perBatch
  for (const c of clients) c.end(true)
  console.log(JSON.stringify({ records, seconds, perSecond: records / seconds }))
}

async function drain (): Promise<void> {
  const [portS, secret, recordsS] = args
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-drain-'))
  let store = await LevelOutboxStore.open({ dir, quotaBytes: 1024 ** 3 })
  const total = Number(recordsS)
  for (let i = 0; i < total; i += 1000) {
    await store.commit({ records: Array.from({ length: 1000 }, (_, k) => ({ kind: 'result' as const, fn: 'threshold', time: Date.now(), data: (record(i + k + 1).data) })) })
  }
  await store.flush()
  // The peer: LevelDB itself reading the same records (keys and values, in steps of 1,000), the
  // floor under any drain; the store is closed for it and opened again.
  await store.close()
  const rawPerSecond = await rawRead(dir, total)
  store = await LevelOutboxStore.open({ dir, quotaBytes: 1024 ** 3 })
  const threads0 = threadCpu()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const link = await CloudLink.start({
    url: `mqtt://127.0.0.1:${portS}`,
    deviceId: 'bench-drain',
    secret,
    store,
    clock: systemClock,
    log: () => {},
    status: () => ({ agent: 'bench', functions: [] }),
    heartbeatMs: 60_000,
    batchRecords: Number(process.env.BENCH_BATCH ?? 1000),
    window: Number(process.env.BENCH_WINDOW ?? UPLOAD_WINDOW),
    ackTimeoutMs: 30_000,
    uploadBytesPerSec: 0,
    dailyUploadBytes: 0,
    uploadLogs: true,
    logExclude: [],
    reconnectMinMs: 100,
    reconnectMaxMs: 1000
  })
  let connectedAt = 0
  while ((await store.stats()).count > 0) {
    if (connectedAt === 0 && link.state === 'online') connectedAt = performance.now()
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const end = performance.now()
  const cpu = process.cpuUsage(cpu0)
  const threads = threadCpu()
  await link.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
  const seconds = (end - (connectedAt || t0)) / 1000
  const { batchesSent: batches, recordsEmbedded: embedded } = link.counters
  const deviceCpuSeconds = (cpu.user + cpu.system) / 1e6
  // The main thread's share (JavaScript, the LevelDB binding's conversions, socket writes); the
  // rest is libuv's pool (LevelDB reads, writes, range clears) and V8's helpers (GC, compiler).
  const mainCpuSeconds = threads.main - threads0.main
  const byThread = Object.fromEntries(Object.entries(threads.byName).map(([k, v]) => [k, v - (threads0.byName[k] ?? 0)]))
  const out = { records: total, seconds, perSecond: total / seconds, batches, embedded, deviceCpuSeconds, mainCpuSeconds, rawPerSecond }
  console.log(JSON.stringify({ ...out, ...byThread }))
}

/** CPU seconds of this process's threads (Linux /proc; zeros elsewhere): the main one, and the others summed by name. */
function threadCpu (): { main: number, byName: Record<string, number> } {
  const out = { main: 0, byName: {} as Record<string, number> }
  let tasks: string[] = []
  try { tasks = readdirSync('/proc/self/task') } catch { return out }
  const tick = 100
  for (const t of tasks) {
    try {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const sec = (Number(f[11]) + Number(f[12])) / tick
      if (Number(t) === process.pid) out.main = sec
      else { const k = `cpu:${name.replace(/[0-9]+$/, '').trim()}`; out.byName[k] = (out.byName[k] ?? 0) + sec }
    } catch {}
  }
  return out
}

/** Records/s of a plain LevelDB iterator over the outbox's records in `dir` (keys and values). */
async function rawRead (dir: string, expect: number): Promise<number> {
  const db = new Level<string, Uint8Array>(storePath(dir), { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  try {
    const records = db.sublevel<string, Uint8Array>('r', { keyEncoding: 'utf8', valueEncoding: 'view' })
    const t0 = performance.now()
    const it = records.iterator()
    let n = 0
    for (let e = await it.nextv(1000); e.length > 0; e = await it.nextv(1000)) n += e.length
    await it.close()
    const seconds = (performance.now() - t0) / 1000
    if (n !== expect) throw new Error(`raw read found ${n} records, expected ${expect}`)
    return n / seconds
  } finally {
    await db.close()
  }
}

async function fleet (): Promise<void> {
  const [portS, secret, firstS, countS, everyS, secondsS] = args
  const [port, first, count, every, seconds] = [portS, firstS, countS, everyS, secondsS].map(Number)
  const clients: MqttClient[] = []
  for (let i = first; i < first + count; i += 25) {
    clients.push(...await Promise.all(Array.from({ length: Math.min(25, first + count - i) }, async (_, k) => await connect(port, `fleet-${i + k}`, secret))))
  }
  for (const [k, c] of clients.entries()) c.publish(upTopic(`fleet-${first + k}`, 'status'), encodeFrame({ state: 'online', agent: 'bench', heartbeatMs: every, functions: [] }), { qos: 1, retain: true })
  console.log(JSON.stringify({ connected: clients.length }))
  let sent = 0
  const end = Date.now() + seconds * 1000
  while (Date.now() < end) {
    for (const [k, c] of clients.entries()) {
      c.publish(upTopic(`fleet-${first + k}`, 'heartbeat'), encodeFrame({ time: Date.now(), backlog: { records: 0, bytes: 0 }, uploadedToday: 0, lastSeq: 0 }), { qos: 0 })
      sent++
    }
    await new Promise((resolve) => setTimeout(resolve, every))
  }
  for (const c of clients) c.end(true)
  console.log(JSON.stringify({ heartbeats: sent }))
}

const modes: Record<string, () => Promise<void>> = { ingest, drain, fleet }
await (modes[mode] ?? (async () => { throw new Error(`unknown mode ${mode}`) }))()

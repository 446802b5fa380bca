// bench/cloud/scale-out (`npm run bench:cloud`): the cloud on the fleet's own broker and
// database (docs/scale-out.md). One real Mosquitto and one real PostgreSQL (test/helpers), and
// on them, each in a fresh database and fed the same messages by one load generator
// (loadgen.js: 20 devices, each its batches in order, 2 in flight):
//   floor     a bare MQTT.js shared-subscription consumer doing the same transaction per batch
//             with no lambkin code (floor-consumer.js; also its MQTT.js manual-ack variant)
//   one, two  `lambkin cloud --broker --db` instances, one process each
//   embedded  `lambkin cloud --db` with its own aedes, the same devices connected to it
// Then cost growth: 100 to 2,000 simulated devices heartbeating every second through Mosquitto
// to one instance, with the RSS and CPU of the instance, Mosquitto and PostgreSQL read from
// /proc, so the bottleneck is named. The last line is the summary.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PgRegistry } from '../../cloud-sync/registry/pg/index.js'
import { GENERATED_SECRET_PARAMS, hashPassword } from '../../src/secrets.js'
import { freePort, startMosquitto } from '../../test/helpers/brokers.js'
import { startPostgres } from '../../test/helpers/postgres.js'

const LOADGEN = fileURLToPath(new URL('./loadgen.js', import.meta.url))
const FLOOR = fileURLToPath(new URL('./floor-consumer.js', import.meta.url))
const BIN = fileURLToPath(new URL('../../cli/bin.js', import.meta.url))
const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuv'
const DEVICES = 20
const BATCHES = Number(process.env.BENCH_BATCHES ?? 40)
const PER_BATCH = 250
const FLEET = (process.env.BENCH_FLEET ?? '100,500,2000').split(',').map(Number)
const FLEET_SECONDS = 10
const f = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

const root = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-scale-'))
const children = new Set<ChildProcess>()
function start (args: string[], ready: RegExp): Promise<{ child: ChildProcess, out: () => string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let out = ''
  return new Promise((resolve, reject) => {
    const check = (d: Buffer): void => { out += d.toString(); if (ready.test(out)) resolve({ child, out: () => out }) }
    child.stdout?.on('data', check)
    child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
    child.on('exit', (code) => reject(new Error(`${args[1]} exited ${String(code)} before ready: ${out.slice(-2000)}`)))
  })
}
async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode === null) {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
  }
  children.delete(child)
}
function loadgen (args: string[], onLine: (o: Record<string, number>) => void = () => {}): Promise<Array<Record<string, number>>> {
  const child = spawn(process.execPath, [LOADGEN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: Array<Record<string, number>> = []
  let buf = ''
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString()
    for (let i; (i = buf.indexOf('\n')) >= 0;) { const o = JSON.parse(buf.slice(0, i)) as Record<string, number>; buf = buf.slice(i + 1); lines.push(o); onLine(o) }
  })
  return new Promise((resolve, reject) => child.on('exit', (code) => code === 0 ? resolve(lines) : reject(new Error(`loadgen exited ${String(code)}`))))
}

/** CPU seconds (user + system) and RSS (MiB) of processes, from /proc. */
function usage (pids: number[]): { cpu: number, rssMiB: number } {
  let cpu = 0
  let rss = 0
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      cpu += (Number(fields[11]) + Number(fields[12])) / 100
      rss += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
    } catch { /* gone */ }
  }
  return { cpu, rssMiB: rss }
}
/** The postmaster and its children (the server's every backend). */
function postgresPids (dataDir: string): number[] {
  const master = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
  const kids = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try { const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === master } catch { return false }
  })
  return [master, ...kids]
}

const started = await startPostgres()
if ('skip' in started) throw new Error(`PostgreSQL is needed for this bench: ${started.skip}`)
const pgServer = started
if (!existsSync('/usr/sbin/mosquitto')) throw new Error('Mosquitto is needed for this bench (apt-get install mosquitto)')
const mosquitto = await startMosquitto(['max_queued_messages 0', 'max_inflight_messages 0'])
const pgPids = (): number[] => postgresPids(path.join(pgServer.dir, 'data'))

async function freshDb (devices: string[]): Promise<string> {
  const url = await pgServer.createDatabase()
  const reg = await PgRegistry.open({ url, retentionDays: 0 })
  const hash = await hashPassword(SECRET, GENERATED_SECRET_PARAMS)
  try { for (const id of devices) await reg.addDevice({ id, secretHash: hash, createdAt: Date.now() }) } finally { await reg.close() }
  return url
}
const benchIds = Array.from({ length: DEVICES }, (_, i) => `bench-${i}`)
const cloudArgs = (name: string, db: string): string[] => [BIN, 'cloud', '--data', path.join(root, name), '--api-port', '0', '--db', db, '--retention-days', '0']
const external = (name: string, db: string): string[] => [...cloudArgs(name, db), '--broker', mosquitto.url]

async function ingest (which: 'floor' | 'floor-serial' | 'one' | 'two' | 'embedded'): Promise<{ perSecond: number, consumerCpu: number, pgCpu: number, brokerCpu: number }> {
  const db = await freshDb(benchIds)
  const consumers: ChildProcess[] = []
  let port = mosquitto.port
  if (which === 'floor' || which === 'floor-serial') consumers.push((await start([FLOOR, which === 'floor' ? 'pipelined' : 'serial', mosquitto.url, db], /ready/)).child)
  else if (which === 'embedded') {
    port = await freePort()
    consumers.push((await start([...cloudArgs('embedded', db), '--port', String(port)], /lambkin cloud ready/)).child)
  } else {
    for (const n of which === 'one' ? ['one'] : ['two-a', 'two-b']) {
      const c = await start(external(n, db), /lambkin cloud ready/)
      await new Promise<void>((resolve) => { const t = setInterval(() => { if (/taking device uploads/.test(c.out())) { clearInterval(t); resolve() } }, 20) })
      consumers.push(c.child)
    }
  }
  const pids = consumers.map((c) => c.pid as number)
  const [c0, p0, b0] = [usage(pids).cpu, usage(pgPids()).cpu, usage([mosquitto.pid]).cpu]
  const [r] = await loadgen(['ingest', 'cloud', String(port), String(DEVICES), String(BATCHES), String(PER_BATCH), SECRET])
  const [c1, p1, b1] = [usage(pids).cpu, usage(pgPids()).cpu, usage([mosquitto.pid]).cpu]
  for (const c of consumers) await stop(c)
  return { perSecond: r.perSecond, consumerCpu: c1 - c0, pgCpu: p1 - p0, brokerCpu: which === 'embedded' ? 0 : b1 - b0 }
}

async function fleet (n: number): Promise<Record<string, number>> {
  const ids = Array.from({ length: n }, (_, i) => `fleet-${i}`)
  const db = await freshDb(ids)
  const inst = await start(external(`fleet-${n}`, db), /lambkin cloud ready/)
  const pid = inst.child.pid as number
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const idle = { inst: usage([pid]).rssMiB, broker: usage([mosquitto.pid]).rssMiB }
  const procs = Math.max(1, Math.ceil(n / 500))
  let connected = 0
  let before: Record<string, { cpu: number, rssMiB: number }> | undefined
  const onLine = (o: Record<string, number>): void => {
    if (o.connected === undefined) return
    connected += o.connected
    if (connected === n) before = { inst: usage([pid]), pg: usage(pgPids()), broker: usage([mosquitto.pid]) }
  }
  const per = Math.ceil(n / procs)
  const results = await Promise.all(Array.from({ length: procs }, async (_, p) => await loadgen(['fleet', String(mosquitto.port), SECRET, String(p * per), String(Math.min(per, n - p * per)), '1000', String(FLEET_SECONDS)], onLine)))
  const after = { inst: usage([pid]), pg: usage(pgPids()), broker: usage([mosquitto.pid]) }
  const heartbeats = results.reduce((k, lines) => k + (lines.find((l) => l.heartbeats !== undefined)?.heartbeats ?? 0), 0)
  const b = before ?? after
  await stop(inst.child)
  const us = (x: 'inst' | 'pg' | 'broker'): number => (after[x].cpu - b[x].cpu) * 1e6 / heartbeats
  return { devices: n, heartbeats, instRssMiB: after.inst.rssMiB, instKiBPerDevice: (after.inst.rssMiB - idle.inst) * 1024 / n, brokerKiBPerDevice: (after.broker.rssMiB - idle.broker) * 1024 / n, instUs: us('inst'), pgUs: us('pg'), brokerUs: us('broker'), heartbeatsPerSecond: heartbeats / FLEET_SECONDS }
}

// The load generators and servers are children; while only a promise on a pooled pg socket is
// pending, Node would see nothing keeping it alive.
const keepAlive = setInterval(() => {}, 60_000)
try {
  const runs: Record<string, Awaited<ReturnType<typeof ingest>>> = {}
  for (const which of (process.env.BENCH_RUNS ?? 'floor,one,two,embedded,floor-serial').split(',') as Array<'floor' | 'one' | 'two' | 'embedded' | 'floor-serial'>) {
    runs[which] = await ingest(which)
    const r = runs[which]
    console.log(`ingest ${which}: ${f(r.perSecond)} records/s; CPU s: consumers ${f(r.consumerCpu, 1)}, PostgreSQL ${f(r.pgCpu, 1)}, Mosquitto ${f(r.brokerCpu, 1)}`)
  }
  const oneVsFloor = runs.one.perSecond / runs.floor.perSecond
  const twoVsOne = runs.two.perSecond / runs.one.perSecond
  console.log(`ingest, ${DEVICES} devices, ${BATCHES} batches of ${PER_BATCH} records each, 2 in flight per device, one Mosquitto and one PostgreSQL (fsync off) on this machine: floor (bare MQTT.js consumer, same transaction) ${f(runs.floor.perSecond)} records/s; one instance ${f(runs.one.perSecond)} (${f(oneVsFloor, 2)}x the floor, goal >= 0.7); two instances ${f(runs.two.perSecond)} (${f(twoVsOne, 2)}x one, goal >= 1.6); embedded cloud on PostgreSQL ${f(runs.embedded.perSecond)} (${f(runs.embedded.perSecond / runs.one.perSecond, 2)}x one external instance); MQTT.js manual-ack consumer (one at a time) ${f(runs['floor-serial'].perSecond)} (${f(runs['floor-serial'].perSecond / runs.floor.perSecond, 2)}x the floor)`)
  const rows: Array<Record<string, number>> = []
  for (const n of FLEET) {
    const r = await fleet(n)
    rows.push(r)
    console.log(`fleet ${f(n)} devices heartbeating every 1 s for ${FLEET_SECONDS} s (${f(r.heartbeatsPerSecond)}/s): instance RSS ${f(r.instRssMiB, 1)} MiB (${f(r.instKiBPerDevice, 2)} KiB per device), Mosquitto ${f(r.brokerKiBPerDevice, 1)} KiB per device; CPU per heartbeat: instance ${f(r.instUs, 1)} us, PostgreSQL ${f(r.pgUs, 1)} us, Mosquitto ${f(r.brokerUs, 1)} us`)
  }
  const big = rows[rows.length - 1]
  const parts = { 'the instance': big.instUs, PostgreSQL: big.pgUs, Mosquitto: big.brokerUs }
  const bottleneck = Object.entries(parts).sort((a, b) => b[1] - a[1])[0][0]
  console.log(`cloud scale-out: one instance ${f(oneVsFloor, 2)}x the floor (goal 0.7), two ${f(twoVsOne, 2)}x one (goal 1.6), embedded ${f(runs.embedded.perSecond)} records/s; at ${f(big.devices)} heartbeating devices ${f(big.instKiBPerDevice, 2)} KiB and ${f(big.instUs + big.pgUs + big.brokerUs, 0)} us CPU per heartbeat in all, most of it in ${bottleneck}`)
} finally {
  clearInterval(keepAlive)
  for (const c of children) c.kill('SIGKILL')
  await mosquitto.close()
  await pgServer.close()
  rmSync(root, { recursive: true, force: true })
}

// bench/relay: the job a board owner would otherwise give Node-RED. One Mosquitto; one load
// generator (its own process) publishing QoS 1 to bench/in/<k> and counting QoS 1 replies on
// bench/out; the same threshold function run in turn by a bare MQTT.js relay (nothing durable),
// the floor of lambkin's guarantees built from its parts with none of its code (floor-relay.ts,
// also without the thread hop or the commit, or writing the agent's values: floor-inline,
// floor-nocommit, floor-writes), Node-RED 4 and `lambkin device --mqtt` (its publish at QoS 1,
// then at QoS 0). Each peer gets a fresh broker; its peak RSS (the process and its children, sampled from /proc) is reported.
// Last line: summary against the targets in docs/performance.md, "The relay job".
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startMosquitto } from './mosquitto.js'
import { hwmMiB, threadCpuSeconds, treeCpuSeconds, treeRssMiB } from './proc.js'
import { NODE_RED, bareRelay, floorRelay, lambkin, nodeRed } from './peers.js'
import type { Peer } from './peers.js'

const LOADGEN = fileURLToPath(new URL('./loadgen.js', import.meta.url))

/**
 * msg/s; peak RSS; the peer's CPU time per 1000 timed messages, which a busy machine disturbs less
 * than msg/s; and the load generator's stalls (waits of 30 ms or more between replies) and their ms.
 */
interface Result { perSecond: number, peakRssMiB: number, cpuMsPer1k: number, mainMsPer1k: number, threadsMsPer1k: number[], stalls: number, stalledMs: number }

async function measure (make: (url: string) => Peer | Promise<Peer>): Promise<Result> {
  const broker = await startMosquitto()
  const peer = await make(broker.url)
  const pid = peer.proc.pid as number
  let peak = 0
  const sampler = setInterval(() => { peak = Math.max(peak, treeRssMiB(pid), hwmMiB(pid)) }, 100)
  try {
    const gen = spawn(process.execPath, [LOADGEN, broker.url], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    let cpu0 = 0
    let threads0 = new Map<number, number>()
    gen.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (cpu0 === 0 && out.includes('timing\n')) { cpu0 = treeCpuSeconds(pid); threads0 = threadCpuSeconds(pid) }
    })
    const code = await new Promise<number | null>((resolve) => gen.once('exit', resolve))
    if (code !== 0) throw new Error(`the load generator failed (exit ${code}): ${out}`)
    const cpu = treeCpuSeconds(pid) - cpu0
    // Each thread's CPU over the timed part; the main thread's tid is the pid.
    const threads = [...threadCpuSeconds(pid)].map(([tid, t]) => [tid, t - (threads0.get(tid) ?? 0)])
    const main = threads.find(([tid]) => tid === pid)?.[1] ?? 0
    peak = Math.max(peak, treeRssMiB(pid), hwmMiB(pid))
    const r = JSON.parse(out.trim().split('\n').pop() as string) as { perSecond: number, messages: number, stalls: number, stalledMs: number }
    const per1k = (seconds: number): number => seconds * 1000 / (r.messages / 1000)
    const others = threads.filter(([tid]) => tid !== pid).map(([, t]) => per1k(t)).sort((x, y) => y - x)
    const { perSecond, stalls, stalledMs } = r
    return { perSecond, peakRssMiB: peak, cpuMsPer1k: per1k(cpu), mainMsPer1k: per1k(main), threadsMsPer1k: others, stalls, stalledMs }
  } finally {
    clearInterval(sampler)
    await peer.stop()
    await broker.stop()
  }
}

const f = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const show = (name: string, r: Result): void => {
  console.log(`relay job, ${name}: ${f(r.perSecond)} msg/s, peak RSS ${f(r.peakRssMiB, 1)} MiB, CPU ${f(r.cpuMsPer1k)} ms per 1000 messages (main thread ${f(r.mainMsPer1k)}), ${r.stalls} stalls of 30 ms or more (${f(r.stalledMs)} ms)`)
  // BENCH_THREADS=1: the other threads of the peer's own process, to tell a sandbox thread from V8's and LevelDB's.
  const others = r.threadsMsPer1k.filter((t) => t >= 0.5).map((t) => f(t, 1)).join(', ')
  if (process.env.BENCH_THREADS === '1') console.log(`relay job, ${name}, by thread: main ${f(r.mainMsPer1k, 1)}, others ${others} ms per 1000 messages (0.5 or more, largest first)`)
}

const pace = process.env.BENCH_RATE === undefined ? 'as fast as each peer answers' : `offered at ${process.env.BENCH_RATE} msg/s (BENCH_RATE)`
console.log(`relay job: QoS 1 bench/in/<k> -> threshold function -> QoS 1 bench/out, one Mosquitto${process.env.BENCH_BROKER_NODELAY === '1' ? ' (set_tcp_nodelay true)' : ''}, ${process.env.BENCH_MESSAGES ?? '40000'} timed messages after ${process.env.BENCH_WARMUP ?? '10000'} warm-up, ${pace}`)
// BENCH_ONLY=relay,floor,floor-inline,floor-nocommit,floor-writes,floor-mqtt5,floor-agent,
// floor-linger,node-red,qos1,qos0 runs some of them (to profile one, with BENCH_PEER_FLAGS).
const only = (process.env.BENCH_ONLY ?? 'relay,floor,node-red,qos1,qos0').split(',')
const none: Result = { perSecond: NaN, peakRssMiB: NaN, cpuMsPer1k: NaN, mainMsPer1k: NaN, threadsMsPer1k: [], stalls: NaN, stalledMs: NaN }
async function peer (key: string, name: string, make: (url: string) => Peer | Promise<Peer>): Promise<Result> {
  if (!only.includes(key)) return none
  const r = await measure(make)
  show(name, r)
  return r
}
const relay = await peer('relay', 'bare MQTT.js relay (nothing durable)', bareRelay)
const floor = await peer('floor', 'floor of the guarantees (MQTT.js, QuickJS on a worker thread, a LevelDB batch a turn, PUBACK after commit, outbox until PUBACK)', floorRelay)
const inline = await peer('floor-inline', 'floor, QuickJS on the main thread (FLOOR_INLINE=1)', (url) => floorRelay(url, { FLOOR_INLINE: '1' }))
const nocommit = await peer('floor-nocommit', 'floor, no LevelDB (FLOOR_NOCOMMIT=1)', (url) => floorRelay(url, { FLOOR_NOCOMMIT: '1' }))
await peer('floor-writes', "floor writing the agent's values (FLOOR_WRITES=lambkin: record envelopes, processed-once marks, counters)", (url) => floorRelay(url, { FLOOR_WRITES: 'lambkin' }))
await peer('floor-mqtt5', 'floor speaking MQTT 5 as the agent does (FLOOR_MQTT5=1: Receive Maximum 256, W9 user properties on each publish)', (url) => floorRelay(url, { FLOOR_MQTT5: '1' }))
await peer('floor-agent', 'floor with both (FLOOR_WRITES=lambkin FLOOR_MQTT5=1)', (url) => floorRelay(url, { FLOOR_WRITES: 'lambkin', FLOOR_MQTT5: '1' }))
await peer('floor-linger', 'floor, each turn held open 5 ms (FLOOR_LINGER_MS=5)', (url) => floorRelay(url, { FLOOR_LINGER_MS: '5' }))
let red = none
if (existsSync(NODE_RED)) red = await peer('node-red', 'Node-RED 4 (mqtt in -> function -> mqtt out)', nodeRed)
else console.log('relay job, Node-RED: not installed (scripts/bench-peers.sh installs it), skipped')
const upload = process.env.BENCH_CLOUD === '0' ? '' : ', uploading its results to a lambkin cloud'
const q1 = await peer('qos1', `lambkin device --mqtt, publish QoS 1 (durable until PUBACK, trigger acked after commit)${upload}`, async (url) => await lambkin(url, 1))
const q0 = await peer('qos0', `lambkin device --mqtt, publish QoS 0${upload}`, async (url) => await lambkin(url, 0))

const x = (n: number): string => Number.isNaN(n) ? 'n/a' : `${f(n, 2)}x`
const ms = (n: number): string => Number.isNaN(n) ? 'n/a' : `${f(n)} ms`
const q1VsRed = q1.perSecond / red.perSecond
const rssVsRed = q1.peakRssMiB / red.peakRssMiB
// CPU per message is the steadier figure on a shared machine: msg/s moves with the other load.
const cpuVsRed = q1.cpuMsPer1k / red.cpuMsPer1k
console.log(`ratios: lambkin QoS 1 / Node-RED ${x(q1VsRed)}, lambkin QoS 0 / bare relay ${x(q0.perSecond / relay.perSecond)}, lambkin peak RSS / Node-RED peak RSS ${x(rssVsRed)}, ` +
  `CPU per 1000 messages: lambkin QoS 1 / Node-RED ${x(cpuVsRed)}, lambkin QoS 0 / Node-RED ${x(q0.cpuMsPer1k / red.cpuMsPer1k)}, lambkin QoS 0 / bare relay ${x(q0.cpuMsPer1k / relay.cpuMsPer1k)}`)
if ([floor, inline, nocommit].some((r) => !Number.isNaN(r.perSecond))) {
  console.log(`ratios to the floor: floor / Node-RED ${x(floor.perSecond / red.perSecond)} msg/s, ${x(floor.cpuMsPer1k / red.cpuMsPer1k)} CPU per 1000 messages; ` +
    `lambkin QoS 1 / floor ${x(q1VsRed * red.perSecond / floor.perSecond)} msg/s, ${x(q1.cpuMsPer1k / floor.cpuMsPer1k)} CPU; ` +
    `CPU per 1000 messages of the hop (floor - inline) ${ms(floor.cpuMsPer1k - inline.cpuMsPer1k)}, of the commit (floor - nocommit) ${ms(floor.cpuMsPer1k - nocommit.cpuMsPer1k)}`)
}
// Under BENCH_RATE every peer that keeps up shows the offered rate: only the CPU ratio tells them apart.
if (process.env.BENCH_RATE !== undefined) console.log('relay: msg/s is the offered rate under BENCH_RATE; compare CPU per 1000 messages')
console.log(`relay: lambkin QoS 1 ${x(q1VsRed)} Node-RED (target >= 1.0), QoS 0 ${x(q0.perSecond / relay.perSecond)} bare relay (target >= 0.8), ` +
  `CPU per 1000 messages ${x(cpuVsRed)} Node-RED's (target <= 1.0), peak RSS ${x(rssVsRed)} Node-RED's ` +
  `(target <= ${process.env.LAMBKIN_MEMORY === 'small' ? '0.6 with the board settings' : "1.0 with Node's defaults"})`)

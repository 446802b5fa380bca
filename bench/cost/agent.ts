// One row group of bench/cost: `node agent.js <functions> <receiving,...>` starts `lambkin device`
// with that many functions on its embedded broker (a child process, started as on a board:
// the flags cli/node-runtime.ts picks for arm64, or Node's defaults with COST_MEMORY=node),
// then measures from outside:
//  - start: spawn to the "ready" line; idle RSS 5 s later, split by smaps.ts, and the
//    start-up peak (VmHWM);
//  - cold call: a QoS 1 message to a function never invoked, until its PUBACK (which the
//    agent sends after the invocation's results are committed), then a warm one to the same
//    function; medians over up to 10 functions;
//  - throughput with k functions receiving: QoS 1 messages spread over k topics, IN_FLIGHT
//    unacknowledged (COST_IN_FLIGHT, 500 unless set), PUBACK after commit; peak RSS sampled
//    every 50 ms during each k, and the agent's CPU (all threads) per 1,000 of the timed
//    messages. The smaps split is taken again at each new peak 1 MiB over the last, or at
//    every new peak with COST_SPLIT_EVERY set (what the peak itself holds).
// Prints one JSON line.
import { spawn } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { planRuntime, SMALL_RAM_ENV } from '../../cli/node-runtime.js'
import { cpuSeconds, rssNow, rssSplit } from './smaps.js'

const BIN = fileURLToPath(new URL('../../cli/bin.js', import.meta.url))
const MESSAGES = Number(process.env.COST_MESSAGES ?? 20_000)
const WARMUP = Number(process.env.COST_WARMUP ?? 5_000)
const IN_FLIGHT = Number(process.env.COST_IN_FLIGHT ?? 500)
const SPLIT_STEP = process.env.COST_SPLIT_EVERY === undefined ? 1 : 0
// COST_AGENT_LOG: a file the agent's stdout is appended to (with COST_EXTRA_FLAGS=--trace-gc, each
// isolate's collections: the main thread's and the sandbox thread's heaps apart).
const AGENT_LOG = process.env.COST_AGENT_LOG
const functions = Number(process.argv[2])
const receiving = (process.argv[3] ?? '').split(',').filter((s) => s !== '').map(Number).filter((k) => k <= functions)

const root = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-cost-'))
for (let i = 0; i < functions; i++) {
  const dir = path.join(root, 'functions', `f${i}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'function.json'), JSON.stringify({ name: `f${i}`, triggers: [{ mqtt: `load/${i}`, qos: 1 }], limits: { memoryKiB: 16384 } }))
  writeFileSync(path.join(dir, 'index.js'), 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { i: e.payload.i, hot: e.payload.value > 25 } }')
}

// The flags a board gets, given up front so the measured pid is the agent (no re-run wrapper).
// COST_NODE_FLAGS replaces the profile's V8 flags and COST_WORKERS sets invocation.workers, to
// price each setting on its own; COST_EXTRA_FLAGS adds flags to the profile's, which stays on.
// (LAMBKIN_MEMORY=node then, or bin.js would re-run Node to add the profile's flags back.)
// MALLOC_ARENA_MAX and MALLOC_MMAP_THRESHOLD_ in the bench's environment are kept, as on a board.
const override = process.env.COST_NODE_FLAGS
const runtime = override === undefined
  ? planRuntime({ arch: 'arm64', env: { LAMBKIN_MEMORY: process.env.COST_MEMORY ?? 'small', MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ }, execArgv: [] })
  : { flags: ['--disable-wasm-trap-handler', ...override.split(' ').filter((x) => x !== '')], env: { ...SMALL_RAM_ENV } }
runtime.flags.push(...(process.env.COST_EXTRA_FLAGS ?? '').split(' ').filter((x) => x !== ''))
const workers = process.env.COST_WORKERS ?? (override === undefined ? undefined : '1')
const config = path.join(root, 'device.json')
// COST_CONFIG: device config (JSON) for the agent, to price one key at a time.
const extraConfig = JSON.parse(process.env.COST_CONFIG ?? '{}') as Record<string, Record<string, unknown>>
const withWorkers = workers === undefined ? extraConfig : { ...extraConfig, invocation: { ...extraConfig.invocation, workers: Number(workers) } }
writeFileSync(config, JSON.stringify(withWorkers))
const t0 = performance.now()
const agent = spawn(process.execPath, [...runtime.flags, BIN, 'device', '--config', config, '--id', 'cost', '--data', path.join(root, 'data'), '--functions', path.join(root, 'functions'), '--broker-port', '0', '--quiet'], {
  env: { ...process.env, ...runtime.env, LAMBKIN_MEMORY: override === undefined ? process.env.COST_MEMORY ?? 'small' : 'node' },
  stdio: ['ignore', 'pipe', 'inherit']
})
let stdout = ''
const port = await new Promise<number>((resolve, reject) => {
  agent.stdout.setEncoding('utf8').on('data', (s: string) => {
    if (AGENT_LOG !== undefined) appendFileSync(AGENT_LOG, s)
    stdout += s
    const m = / ready: .*broker mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)
    if (m !== null) resolve(Number(m[1]))
  })
  agent.once('exit', (code) => reject(new Error(`the agent exited (${String(code)}) before it was ready: ${stdout}`)))
})
const startSeconds = (performance.now() - t0) / 1000
const pid = agent.pid as number

await new Promise((resolve) => setTimeout(resolve, 5000))
const { rss: idle, peak: startPeak } = rssNow(pid)
const split = rssSplit(pid)

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 })
const payload = (i: number): string => JSON.stringify({ i, value: 20 + (i % 10) })
async function timedPublish (topic: string): Promise<number> {
  const t = performance.now()
  await client.publishAsync(topic, payload(0), { qos: 1 })
  return performance.now() - t
}
const cold: number[] = []
const warm: number[] = []
for (let j = 0; j < Math.min(10, functions); j++) {
  cold.push(await timedPublish(`load/${j}`))
  warm.push(await timedPublish(`load/${j}`))
}

/** Publishes `count` QoS 1 messages over `k` topics, at most IN_FLIGHT unacknowledged. */
async function publish (count: number, k: number): Promise<void> {
  let next = 0
  const lane = async (): Promise<void> => { while (next < count) { const i = next++; await client.publishAsync(`load/${i % k}`, payload(i), { qos: 1 }) } }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
}
// Peak under load is sampled (VmHWM would also hold the start-up transient).
// The split is taken again whenever the sample is a new peak (within 1 MiB), to say what grew.
const throughput: Array<{ receiving: number, perSecond: number, cpuMsPer1000: number, peakRssMiB: number, peakSplit?: Record<string, number> }> = []
for (const k of receiving) {
  let peak = 0
  let peakSplit: Record<string, number> | undefined
  const sampler = setInterval(() => {
    const rss = rssNow(pid).rss
    if (rss > peak + SPLIT_STEP) peakSplit = { ...rssSplit(pid) }
    peak = Math.max(peak, rss)
  }, 50)
  if (AGENT_LOG !== undefined) appendFileSync(AGENT_LOG, `# load ${k} start\n`)
  await publish(WARMUP, k)
  const t = performance.now()
  const cpu = cpuSeconds(pid)
  await publish(MESSAGES, k)
  const perSecond = MESSAGES / ((performance.now() - t) / 1000)
  const cpuMsPer1000 = (cpuSeconds(pid) - cpu) * 1000 / (MESSAGES / 1000)
  clearInterval(sampler)
  if (AGENT_LOG !== undefined) appendFileSync(AGENT_LOG, `# load ${k} end\n`)
  throughput.push({ receiving: k, perSecond, cpuMsPer1000, peakRssMiB: Math.max(peak, rssNow(pid).rss), peakSplit })
}
await client.endAsync()

const exited = new Promise((resolve) => agent.once('exit', resolve))
agent.kill('SIGTERM')
await exited
rmSync(root, { recursive: true, force: true })
console.log(JSON.stringify({ functions, flags: runtime.flags.join(' '), startSeconds, idleRssMiB: idle, startPeakRssMiB: startPeak, split, coldMs: median(cold), warmMs: median(warm), throughput }))

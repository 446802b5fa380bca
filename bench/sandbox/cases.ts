// One benchmark case per process (so RSS figures are clean): `node cases.js <runtime> <case>`
// prints one JSON line. Cases: trivial, echo (a sensor reading in and out), cpu, cold, idle.
// Runtimes: lambkin (our pool), quickjs (quickjs-emscripten used directly, the floor), hop
// (an echo worker: the floor of the thread hop alone), threaded (raw QuickJS on
// BENCH_CONCURRENCY worker threads: the floor of a sandbox per thread), ivm (isolated-vm),
// vm (node:vm).
import { readFileSync, readdirSync } from 'node:fs'
import { requirePeer } from '../peers/require.js'
import { performance } from 'node:perf_hooks'
import vm from 'node:vm'
import { SandboxPool } from '../../src/sandbox/index.js'
import type { FunctionSpec } from '../../src/sandbox/index.js'
import { quickjsPeer } from './quickjs-peer.js'
import { hopPeer } from './hop-peer.js'
import { threadedPeer } from './threaded-peer.js'

export const TRIVIAL = 'export default (e) => ({ ok: true, n: e.n + 1 })'
export const CPU = 'export default (e) => { let c = 0; for (let i = 2; i < e.limit; i++) { let p = true; for (let j = 2; j * j <= i; j++) if (i % j === 0) { p = false; break } if (p) c++ } return { primes: c } }'
const CPU_LIMIT = 20000
/** A sensor reading as a trigger hands it over (about 240 characters of JSON), answered unchanged. */
export const ECHO = 'export default (e) => e'
const reading = (i: number): unknown => ({ n: i, topic: 'sensors/kitchen/temperature', payload: { t: 21.5, h: 40.1, unit: 'C', ts: 1733500000000, history: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16] }, qos: 1, retain: false, correlationData: 'abcdefghijklmnopqrstuvwx', at: 1733500000000 })

const plain = (src: string): string => src.replace('export default', 'globalThis.handler =')

// A function's concurrency is how many sandboxes (spread over the pool's threads) serve it.
// 1 is the default and the figure the summary compares; the bench also runs CONCURRENCY=2
// (one sandbox per worker thread), the pool's best case for a single hot function.
function spec (name: string, src: string): FunctionSpec {
  return { name, version: '1', files: { 'index.js': src }, layers: {}, handler: 'index.js', limits: { memoryKiB: 32768, timeoutMs: 10000, instructions: 1e12, concurrency: Number(process.env.BENCH_CONCURRENCY ?? 1), stackKiB: 64 }, env: {}, publish: [], provisioned: 0 }
}

type Call = (e: unknown) => Promise<unknown> | unknown

async function runtime (kind: string): Promise<{ make: (name: string, src: string) => Promise<Call>, close: () => Promise<void> }> {
  if (kind === 'lambkin') {
    const pool = await SandboxPool.create({ workers: 2, queueDepth: 100_000 })
    return {
      make: async (name, src) => {
        const key = await pool.load(spec(name, src))
        return async (e) => { const o = await pool.invoke(key, e); if (!o.ok) throw new Error(o.error.message); return o.result }
      },
      close: () => pool.close()
    }
  }
  if (kind === 'quickjs') return await quickjsPeer()
  if (kind === 'hop') return await hopPeer()
  if (kind === 'threaded') return await threadedPeer()
  if (kind === 'ivm') {
    // any: isolated-vm ships no types we install; it is loaded on demand from bench/peers.
    const ivm = requirePeer('isolated-vm') as any
    const isolates: Array<{ dispose: () => void }> = []
    return {
      make: async (_name, src) => {
        const isolate = new ivm.Isolate({ memoryLimit: 32 })
        isolates.push(isolate)
        const context = await isolate.createContext()
        await (await isolate.compileScript(plain(src))).run(context)
        const fn = await context.global.get('handler', { reference: true })
        return (e) => fn.applySync(undefined, [e], { arguments: { copy: true }, result: { copy: true } })
      },
      close: async () => { for (const i of isolates) i.dispose() }
    }
  }
  return {
    make: async (_name, src) => {
      const context = vm.createContext({})
      new vm.Script(plain(src)).runInContext(context)
      const fn = context.handler as (e: unknown) => unknown
      // Copy in and out as the others do, so results are comparable.
      return (e) => JSON.parse(JSON.stringify(fn(JSON.parse(JSON.stringify(e)))))
    },
    close: async () => {}
  }
}

/**
 * CPU time so far of each thread of this process, in microseconds, by thread id (Linux:
 * /proc/self/task/<tid>/schedstat, nanoseconds on the CPU); empty where there is no /proc.
 */
function threadCpu (): Map<string, number> {
  const out = new Map<string, number>()
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try { out.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1000) } catch { /* the thread ended */ }
    }
  } catch { /* no /proc */ }
  return out
}

/**
 * Calls per second with `inFlight` calls kept outstanding (each completion starts the next),
 * and the process's CPU time per call over all its threads: on a shared, noisy machine the
 * second figure moves much less than the first. Where /proc tells threads apart, the CPU time
 * per call is also split between the main thread and all the others (sandbox workers, V8's
 * helpers).
 */
async function throughput (call: Call, event: (i: number) => unknown, seconds: number, inFlight: number): Promise<Record<string, number>> {
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const threads0 = threadCpu()
  const end = t0 + seconds * 1000
  let n = 0
  const lane = async (): Promise<void> => {
    while (performance.now() < end) await call(event(n++))
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  const cpu = process.cpuUsage(cpu0)
  const threads1 = threadCpu()
  const out: Record<string, number> = { perSecond: n / ((performance.now() - t0) / 1000), cpuUsPerCall: (cpu.user + cpu.system) / n }
  const main = String(process.pid)
  if (threads1.has(main)) {
    let others = 0
    for (const [tid, us] of threads1) if (tid !== main) others += us - (threads0.get(tid) ?? 0)
    out.mainUsPerCall = (threads1.get(main) as number - (threads0.get(main) as number)) / n
    out.otherUsPerCall = others / n
  }
  return out
}

async function main (): Promise<void> {
  const [kind, which] = process.argv.slice(2)
  const rt = await runtime(kind)
  const out: Record<string, number> = {}
  if (which === 'trivial' || which === 'cpu' || which === 'echo') {
    const call = await rt.make('f', which === 'trivial' ? TRIVIAL : which === 'echo' ? ECHO : CPU)
    const ev = which === 'trivial' ? (i: number) => ({ n: i }) : which === 'echo' ? reading : () => ({ limit: CPU_LIMIT })
    await throughput(call, ev, 0.5, 64)
    Object.assign(out, await throughput(call, ev, which === 'cpu' ? 4 : 3, which === 'cpu' ? 4 : 256))
  } else if (which === 'cold') {
    // Load to first result of a function never seen before, one at a time.
    const times: number[] = []
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now()
      const call = await rt.make(`cold${i}`, TRIVIAL.replace('n + 1', `n + ${i}`))
      await call({ n: 1 })
      times.push(performance.now() - t0)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    times.sort((a, b) => a - b)
    out.medianMs = times[Math.floor(times.length / 2)]
    out.p90Ms = times[Math.floor(times.length * 0.9)]
  } else if (which === 'idle') {
    const count = 200
    const settle = async (): Promise<number> => {
      for (let i = 0; i < 3; i++) { (globalThis as { gc?: () => void }).gc?.(); await new Promise((resolve) => setTimeout(resolve, 50)) }
      return process.memoryUsage().rss
    }
    // One warm-up sandbox so one-time costs (the compiled wasm module, the worker threads) are not counted.
    await (await rt.make('warm', TRIVIAL))({ n: 1 })
    const before = await settle()
    for (let i = 0; i < count; i++) await (await rt.make(`idle${i}`, TRIVIAL.replace('n + 1', `n + ${i}`)))({ n: 1 })
    const after = await settle()
    out.perSandboxKiB = (after - before) / count / 1024
  }
  await rt.close()
  process.stdout.write(JSON.stringify(out) + '\n')
}

await main()

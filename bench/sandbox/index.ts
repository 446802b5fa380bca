// bench/sandbox: lambkin's pool against isolated-vm and node:vm, measured in the same run,
// each case in a fresh process. Prints ratios; the last line is the one-line summary.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { hasPeer } from '../peers/require.js'

const CASES = fileURLToPath(new URL('./cases.js', import.meta.url))
/** Worker threads of the pool in cases.ts. */
const POOL_WORKERS = 2

function run (kind: string, which: string, nodeFlags: string[] = [], concurrency = 1): Record<string, number> {
  const env = { ...process.env, BENCH_CONCURRENCY: String(concurrency) }
  const out = execFileSync(process.execPath, ['--expose-gc', ...nodeFlags, CASES, kind, which], { encoding: 'utf8', maxBuffer: 1 << 20, env })
  return JSON.parse(out.trim().split('\n').pop() as string) as Record<string, number>
}


const f = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const peers = hasPeer('isolated-vm') ? ['ivm', 'vm'] : ['vm']
if (!peers.includes('ivm')) console.log('isolated-vm is not installed in bench/peers (scripts/bench-peers.sh): comparing against node:vm only')

const rows: Record<string, Record<string, Record<string, number>>> = {}
for (const which of ['trivial', 'cpu', 'cold', 'idle']) {
  rows[which] = {}
  for (const kind of ['lambkin', ...peers]) rows[which][kind] = run(kind, which)
}
// The pool's best configuration for one hot function: a sandbox on each of its 2 worker threads.
const pooled = run('lambkin', 'trivial', [], POOL_WORKERS)
const trapOff = { trivial: run('lambkin', 'trivial', ['--disable-wasm-trap-handler']), cpu: run('lambkin', 'cpu', ['--disable-wasm-trap-handler']) }

const ref = peers[0]
const cpu = (r: Record<string, number>): string => `${f(r.cpuUsPerCall, 1)} us CPU/call`
console.log(`throughput, trivial handler, concurrency 1 (one sandbox): lambkin ${f(rows.trivial.lambkin.perSecond)}/s (${cpu(rows.trivial.lambkin)}), ${peers.map((p) => `${p} ${f(rows.trivial[p].perSecond)}/s (${cpu(rows.trivial[p])})`).join(', ')}`)
console.log(`throughput, trivial handler, concurrency ${POOL_WORKERS} (a sandbox per worker thread, the pool's best case): lambkin ${f(pooled.perSecond)}/s (${cpu(pooled)}); the peers run on the main thread only`)
console.log(`throughput, cpu-heavy handler (primes < 20000): lambkin ${f(rows.cpu.lambkin.perSecond, 1)}/s, ${peers.map((p) => `${p} ${f(rows.cpu[p].perSecond, 1)}/s`).join(', ')}`)
console.log(`cold start (load to first result), median: lambkin ${f(rows.cold.lambkin.medianMs, 2)} ms (p90 ${f(rows.cold.lambkin.p90Ms, 2)}), ${peers.map((p) => `${p} ${f(rows.cold[p].medianMs, 2)} ms`).join(', ')}`)
console.log(`memory per idle sandbox (RSS growth over 200): lambkin ${f(rows.idle.lambkin.perSandboxKiB)} KiB, ${peers.map((p) => `${p} ${f(rows.idle[p].perSandboxKiB)} KiB`).join(', ')}`)
console.log(`--disable-wasm-trap-handler: trivial ${f(trapOff.trivial.perSecond)}/s (${f(trapOff.trivial.perSecond / rows.trivial.lambkin.perSecond, 2)}x of default), cpu ${f(trapOff.cpu.perSecond, 1)}/s (${f(trapOff.cpu.perSecond / rows.cpu.lambkin.perSecond, 2)}x)`)
const tput = rows.trivial.lambkin.perSecond / rows.trivial[ref].perSecond
const mem = rows.idle.lambkin.perSandboxKiB / rows.idle[ref].perSandboxKiB
console.log(`sandbox: trivial ${f(tput, 2)}x ${ref} at concurrency 1 (target >= 0.8), ${f(pooled.perSecond / rows.trivial[ref].perSecond, 2)}x at concurrency ${POOL_WORKERS}, cpu ${f(rows.cpu.lambkin.perSecond / rows.cpu[ref].perSecond, 3)}x ${ref}, cold start ${f(rows.cold.lambkin.medianMs, 2)} ms (target < 2), idle memory ${f(mem, 3)}x ${ref} (target <= 0.1), trap-handler-off speed ${f(trapOff.trivial.perSecond / rows.trivial.lambkin.perSecond, 2)}x`)

// bench/cost: how the agent's cost grows, in one table (docs/performance.md, "How cost grows"): memory and
// start with more functions deployed, throughput with more of them receiving, the outbox with
// more records held. Each group in processes of its own (agent.js, outbox.js). Sizes:
//   COST_FUNCTIONS  functions deployed, one agent each          (default 10,50,200)
//   COST_RECEIVING  functions receiving, on the 50-function agent (default 1,8,50)
//   COST_OUTBOX     records held in the outbox                   (default 100000,1000000;
//                   docs/performance.md's table adds 10000000, ~2.5 GB of disk and 10-20 minutes)
//   COST_MEMORY     small (the board default, cli/node-runtime.ts) or node (Node's defaults)
//   COST_MESSAGES, COST_WARMUP  messages timed per throughput row, after untimed ones
// Last line: summary.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { SMALL_RAM_ENV } from '../../cli/node-runtime.js'

const sizes = (name: string, fallback: string): number[] => (process.env[name] ?? fallback).split(',').filter((s) => s.trim() !== '').map(Number)
const FUNCTIONS = sizes('COST_FUNCTIONS', '10,50,200')
const RECEIVING = sizes('COST_RECEIVING', '1,8,50')
const OUTBOX = sizes('COST_OUTBOX', '100000,1000000')

const run = (file: string, args: string[]): Record<string, unknown> => JSON.parse(execFileSync(process.execPath, [fileURLToPath(new URL(file, import.meta.url)), ...args], { encoding: 'utf8', maxBuffer: 1 << 22, stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop() as string) as Record<string, unknown>
const f = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
/** An smaps split (smaps.ts) as text: MiB by kind, the wasm MiB with how many memories hold it. */
const splitText = (split: Record<string, number>): string => Object.entries(split).filter(([k]) => k !== 'memories')
  .map(([k, v]) => k === 'wasm' && (split.memories ?? 0) > 0 ? `wasm ${f(v, 1)} (${split.memories} memories, ${f(v / split.memories, 2)} each)` : `${k} ${f(v, 1)}`).join(', ')
const count = (n: number): string => n >= 1e6 ? `${f(n / 1e6, n % 1e6 === 0 ? 0 : 1)}M` : n >= 1e3 ? `${f(n / 1e3)}k` : f(n)

interface ThroughputRow { receiving: number, perSecond: number, cpuMsPer1000: number, peakRssMiB: number, peakSplit?: Record<string, number> }
interface AgentRow {
  functions: number
  flags: string
  startSeconds: number
  idleRssMiB: number
  startPeakRssMiB: number
  split: Record<string, number>
  coldMs: number
  warmMs: number
  throughput: ThroughputRow[]
}
interface OutboxRow { records: number, writePerSecond: number, diskMiB: number, openSeconds: number, drainPerSecond: number }

// The agent the receiving rows run on: the smallest deployed that has enough functions.
const host = FUNCTIONS.filter((n) => n >= Math.max(0, ...RECEIVING)).sort((a, b) => a - b)[0] ?? Math.max(...RECEIVING)
const agents = new Map<number, AgentRow>()
for (const n of [...new Set([...FUNCTIONS, ...(RECEIVING.length > 0 ? [host] : [])])]) agents.set(n, run('./agent.js', [String(n), n === host ? RECEIVING.join(',') : '']) as unknown as AgentRow)
const outboxes = OUTBOX.map((n) => run('./outbox.js', [String(n)]) as unknown as OutboxRow)

const rows: string[][] = []
for (const n of FUNCTIONS) {
  const a = agents.get(n) as AgentRow
  rows.push(['functions deployed', f(n), `idle ${f(a.idleRssMiB, 1)} MiB RSS (${f(a.startPeakRssMiB, 0)} at start)`, `ready in ${f(a.startSeconds, 1)} s; first call ${f(a.coldMs, 1)} ms, warm ${f(a.warmMs, 1)} ms`, ''])
}
const hostRow = agents.get(host)
for (const t of hostRow?.throughput ?? []) rows.push([`functions receiving (of ${host})`, f(t.receiving), `peak ${f(t.peakRssMiB, 1)} MiB RSS`, '', `${f(t.perSecond)} msg/s, agent CPU ${f(t.cpuMsPer1000)} ms per 1,000`])
for (const o of outboxes) rows.push(['outbox records', count(o.records), `${f(o.diskMiB)} MiB on disk`, `open after restart ${f(o.openSeconds, 2)} s`, `write ${f(o.writePerSecond)} rec/s; drain to cloud ${f(o.drainPerSecond)} rec/s`])

const header = ['What grows', 'n', 'Memory or disk', 'Time', 'Rate']
console.log(`| ${header.join(' | ')} |`)
console.log(`|${header.map(() => '---').join('|')}|`)
for (const r of rows) console.log(`| ${r.join(' | ')} |`)
const any = [...agents.values()][0]
if (any !== undefined) console.log(`\nagent started as on a board: node ${any.flags}${process.env.COST_MEMORY === 'node' ? '' : ` with ${Object.entries(SMALL_RAM_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}`}`)
for (const [n, a] of agents) console.log(`idle RSS split with ${n} functions (MiB, smaps): ${splitText(a.split)}`)
for (const t of hostRow?.throughput ?? []) if (t.peakSplit !== undefined) console.log(`peak RSS split with ${t.receiving} of ${host} functions receiving (MiB, smaps): ${splitText(t.peakSplit)}`)
const fifty = agents.get(50) ?? hostRow
const peak = Math.max(0, ...(hostRow?.throughput ?? []).map((t) => t.peakRssMiB))
console.log(`cost: idle ${fifty === undefined ? '-' : f(fifty.idleRssMiB, 1)} MiB with ${fifty?.functions ?? '-'} functions (target <= 80), peak ${f(peak, 1)} MiB under load (target <= idle + 25)${outboxes.map((o) => `, ${count(o.records)} records drain ${f(o.drainPerSecond)} rec/s`).join('')}`)

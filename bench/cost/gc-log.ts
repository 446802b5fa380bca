// Splits an agent's `--trace-gc` or `--trace-gc-nvp` output by V8 isolate, the main thread's
// heap apart from each sandbox thread's (docs/performance.md, "The peak over idle, a third look"):
//   COST_EXTRA_FLAGS=--trace-gc COST_AGENT_LOG=/tmp/gc.log COST_FUNCTIONS=50 \
//     COST_RECEIVING=50 COST_OUTBOX= node dist/bench/cost/index.js
//   node dist/bench/cost/gc-log.js /tmp/gc.log
// agent.js marks each load ("# load <k> start" / "end"); per isolate, in its first one: scavenges
// and full collections, what each full collection left (the live set, MiB); with --trace-gc the
// MiB committed after the last collection before the load and at most during it; with
// --trace-gc-nvp (V8 then prints only that, so a run of its own) the MB promoted out of the
// young generation.
// The isolate seen first is the main thread. Prints one JSON line per isolate.
import { readFileSync } from 'node:fs'

interface Isolate {
  scavenges: number
  fullGcs: number
  idleCommittedMiB: number
  peakCommittedMiB: number
  liveAfterFullMiB: [number, number] | null
  promotedMB: number
}

const TRACE = /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: ([A-Za-z-]+(?: \(reduce\))?) [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/
const file = process.argv[2]
if (file === undefined) throw new Error('usage: node gc-log.js <agent log with --trace-gc>')
const isolates = new Map<string, Isolate>()
let phase: 'before' | 'load' | 'after' = 'before'
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (line.startsWith('# load ')) {
    if (phase === 'before' && line.endsWith(' start')) phase = 'load'
    else if (phase === 'load' && line.endsWith(' end')) phase = 'after'
    continue
  }
  const id = /^\[\d+:(0x[0-9a-f]+)\]/.exec(line)?.[1]
  if (id === undefined) continue
  let iso = isolates.get(id)
  if (iso === undefined) isolates.set(id, iso = { scavenges: 0, fullGcs: 0, idleCommittedMiB: 0, peakCommittedMiB: 0, liveAfterFullMiB: null, promotedMB: 0 })
  const t = TRACE.exec(line)
  if (t !== null) {
    const after = Number(t[3]) // V8's trace counts MB of 2^20 bytes
    const committed = Number(t[4])
    if (phase === 'before') iso.idleCommittedMiB = committed
    if (phase !== 'load') continue
    iso.peakCommittedMiB = Math.max(iso.peakCommittedMiB, committed)
    if (t[2] === 'Scavenge') iso.scavenges++
    else {
      iso.fullGcs++
      const [lo, hi] = iso.liveAfterFullMiB ?? [after, after]
      iso.liveAfterFullMiB = [Math.min(lo, after), Math.max(hi, after)]
    }
  } else if (phase === 'load' && line.includes(' gc=')) {
    // nvp: no committed figure; the live set from total_size_after (bytes).
    if (line.includes(' gc=s ')) {
      iso.scavenges++
      iso.promotedMB += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0) / 1e6
    } else {
      iso.fullGcs++
      const after = Number(/ total_size_after=(\d+)/.exec(line)?.[1] ?? 0) / 2 ** 20
      const [lo, hi] = iso.liveAfterFullMiB ?? [after, after]
      iso.liveAfterFullMiB = [Math.min(lo, after), Math.max(hi, after)]
    }
  }
}
const r = (x: number): number => Math.round(x * 10) / 10
for (const [id, iso] of isolates) {
  console.log(JSON.stringify({ isolate: id, ...iso, liveAfterFullMiB: iso.liveAfterFullMiB?.map(r) ?? null, promotedMB: r(iso.promotedMB) }))
}

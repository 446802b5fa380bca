// bench/agent: the agent against a plain aedes QoS 1 relay (embedded and external broker), the
// outbox against raw LevelDB, and the agent's memory with 50 functions, each case in a fresh
// process. Last line: summary.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url))
function run (file: string, args: string[]): string {
  return execFileSync(process.execPath, [here(file), ...args], { encoding: 'utf8', maxBuffer: 1 << 22, stdio: ['ignore', 'pipe', 'inherit'] })
}
const json = (out: string): Record<string, number> => JSON.parse(out.trim().split('\n').pop() as string) as Record<string, number>
const f = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

// Relay and agent alternate so drift on a shared machine hits both alike.
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ratios: Record<string, number> = {}
for (const [deployment, layout] of [
  ['embedded', 'publisher -> agent with its own aedes (--broker-port), PUBACK after commit'],
  ['external', 'publisher -> aedes -> agent (--mqtt), the agent acknowledging after commit']
] as const) {
  const relay: number[] = []
  const agent: number[] = []
  for (let i = 0; i < 3; i++) {
    relay.push(json(run('./cases.js', [`relay-${deployment}`])).perSecond)
    agent.push(json(run('./cases.js', [`agent-${deployment}`])).perSecond)
  }
  const r = median(relay)
  const a = median(agent)
  ratios[deployment] = a / r
  console.log(`mqtt end to end, ${deployment} (${layout}), QoS 1, median of 3: agent ${f(a)} msg/s, plain aedes QoS 1 relay laid out alike ${f(r)} msg/s, ${f(a / r, 2)}x`)
}
const outbox = run('./outbox-writes.js', []).trim().split('\n')
for (const line of outbox) console.log(line)
const mem = json(run('./cases.js', ['rss']))
console.log(`agent memory with ${f(mem.invocations)} invocations over 50 functions: idle ${f(mem.idleRssMiB, 1)} MiB, under load ${f(mem.loadedRssMiB, 1)} MiB, peak ${f(mem.peakRssMiB, 1)} MiB (whole process, all threads)`)
console.log(`agent: mqtt ${f(ratios.embedded, 2)}x relay embedded, ${f(ratios.external, 2)}x external (target >= 0.5), ${outbox[outbox.length - 1].replace(/^outbox: /, 'outbox ')} (target >= 50,000 rec/s), peak RSS ${f(mem.peakRssMiB, 1)} MiB with 50 functions (target <= 64 MB)`)

// What bench/relay reads of a peer from /proc: RSS of its process tree, its peak, and CPU time,
// of the tree and of each thread of the peer's own process.
import { readdirSync, readFileSync } from 'node:fs'

/** RSS in MiB of `pid` and its descendants, from /proc (0 once it is gone). */
export function treeRssMiB (pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((c) => c !== '').map(Number)
    return kb / 1024 + children.reduce((n, c) => n + treeRssMiB(c), 0)
  } catch {
    return 0
  }
}

/** Peak RSS of the process itself over its life (VmHWM), in MiB. */
export function hwmMiB (pid: number): number {
  try { return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024 } catch { return 0 }
}

/** CPU seconds (user + system, all threads) used by `pid` and its descendants so far. */
export function treeCpuSeconds (pid: number): number {
  try {
    // Fields 14 and 15 of /proc/<pid>/stat, counted after the command name's closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((c) => c !== '').map(Number)
    return (Number(fields[11]) + Number(fields[12])) / TICKS + children.reduce((n, c) => n + treeCpuSeconds(c), 0)
  } catch {
    return 0
  }
}
/** CPU seconds (user + system) of each thread of `pid` (its own process only) by thread id; empty once it is gone. */
export function threadCpuSeconds (pid: number): Map<number, number> {
  const out = new Map<number, number>()
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / TICKS)
    }
  } catch {}
  return out
}
/** USER_HZ: 100 on every Linux this runs on. */
const TICKS = 100

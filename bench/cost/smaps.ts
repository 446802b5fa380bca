// Splits a process's RSS by what holds it, from /proc/<pid>/smaps (Linux): docs/performance.md's
// "Memory" table. Heuristics, stated so they can be checked against `v8.getHeapStatistics()`:
//  binary  file-backed mappings (node itself, shared libraries, native addons): clean pages
//          the kernel can drop, but counted in RSS;
//  malloc  the brk heap plus glibc arenas (a 64 MiB-aligned read-write mapping followed by its
//          inaccessible reserve, 64 MiB together);
//  wasm    wasm memories: an anonymous read-write mapping that is not an arena, 16 MiB or more
//          alone or with the inaccessible reserve right after it (a sandbox's memory is
//          reserved up to its cap, at least 16 MiB, and made accessible as it grows; its
//          first pages are the QuickJS binary's static data and C stack, see quickjs-binary.ts);
//  stacks  8 MiB read-write mappings (thread stacks);
//  v8      every other anonymous mapping: the V8 heaps of all threads (256 KiB pages), code
//          space and V8's own tables.
import { readFileSync } from 'node:fs'

/** MiB by kind, and `memories`: how many wasm memories (QuickJS instances, warm or spare) hold the wasm MiB. */
export interface RssSplit { binary: number, v8: number, wasm: number, malloc: number, stacks: number, total: number, memories: number }

interface Mapping { start: number, end: number, perm: string, name: string, rssKiB: number }

const MiB = 1024 * 1024
const ARENA = 64 * MiB

function mappings (pid: number): Mapping[] {
  const out: Mapping[] = []
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (m !== null) out.push({ start: Number.parseInt(m[1], 16), end: Number.parseInt(m[2], 16), perm: m[3], name: m[4].trim(), rssKiB: 0 })
    else if (line.startsWith('Rss:')) out[out.length - 1].rssKiB = Number.parseInt(line.slice(4))
  }
  return out
}

/** The RSS of `pid` in MiB, split as above. Throws if /proc/<pid>/smaps cannot be read. */
export function rssSplit (pid: number): RssSplit {
  const split: RssSplit = { binary: 0, v8: 0, wasm: 0, malloc: 0, stacks: 0, total: 0, memories: 0 }
  const maps = mappings(pid)
  for (const [i, m] of maps.entries()) {
    const size = m.end - m.start
    const next = maps[i + 1]
    let kind: Exclude<keyof RssSplit, 'memories'>
    if (m.name.startsWith('/')) kind = 'binary'
    else if (m.name === '[heap]') kind = 'malloc'
    else if (m.name.startsWith('[')) kind = 'v8'
    else if (m.start % ARENA === 0 && m.perm === 'rw-p' && next !== undefined && next.start === m.end && next.perm === '---p' && next.end - m.start === ARENA) kind = 'malloc'
    else if (m.perm === 'rw-p' && (size >= 16 * MiB || (next !== undefined && next.start === m.end && next.perm === '---p' && next.end - m.start >= 16 * MiB))) kind = 'wasm'
    else if (m.perm === 'rw-p' && size === 8 * MiB) kind = 'stacks'
    else kind = 'v8'
    if (kind === 'wasm') split.memories++
    split[kind] += m.rssKiB / 1024
    split.total += m.rssKiB / 1024
  }
  return split
}

/** VmRSS and VmHWM of `pid`, MiB. */
export function rssNow (pid: number): { rss: number, peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (name: string): number => Number.parseInt((new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(status) as RegExpExecArray)[1]) / 1024
  return { rss: field('VmRSS'), peak: field('VmHWM') }
}

/** CPU time `pid` has used so far (user + system, all threads), seconds, from /proc/<pid>/stat (clock ticks of 1/100 s). */
export function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

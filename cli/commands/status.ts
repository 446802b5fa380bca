// `lambkin status`: the fleet at a glance: each device's state (online / stale / offline, by
// the cloud's clock, or conflict), last seen, agent version, functions, outbox backlog, upload
// bytes today, outbox streams; then each device's problems with what to do.
import type { CliIo } from '../io.js'
import { ApiClient } from '../api-client.js'
import type { ApiTarget } from '../api-client.js'
import { apiOptions, command, intOption, runProgram } from '../program.js'
import { DEVICE_PAGES } from '../../cloud-sync/api/device-pages.js'
import { PAGE_OPTIONS, nextHint, readDevices } from '../device-pages.js'
import type { PageFlags } from '../device-pages.js'
import type { Run } from '../program.js'
import { bytes, table, when } from '../table.js'

interface Fault { since: number, message: string }

interface StatusView {
  next?: string | null
  devices: Array<{
    id: string
    state: string
    lastSeen: number | null
    agent: string | null
    functions: Array<{ name: string }>
    backlog: { records: number; bytes: number } | null
    backlogAt?: number | null
    uploadedToday: number | null
    streams?: number
    problems?: string[]
    storeFault?: Fault | null
  }>
  cloud: Record<string, unknown> & { storeFault?: Fault | null }
}

/**
 * The BACKLOG cell: records and bytes from the device's last heartbeat; for a device not online,
 * with when it reported them (a board away from the cloud may hold more by now). In a conflict
 * two boards heartbeat under one id [W4], so the figure is whichever reported last and says so.
 */
export function backlogCell (d: Pick<StatusView['devices'][number], 'state' | 'backlog' | 'backlogAt'>): string {
  if (d.backlog === null) return '-'
  const cell = `${d.backlog.records} (${bytes(d.backlog.bytes)})`
  if (d.state === 'conflict') return `${cell}, one of the boards on this id`
  return d.state === 'online' || d.backlogAt == null ? cell : `${cell} as of ${when(d.backlogAt)}`
}

export async function statusCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = false
  const program = apiOptions(command('lambkin status', io)
    .description('Shows every device (in id order; one page of them with --limit or --after): state (online, stale: heartbeats stopped, offline, never-seen, revoked, conflict: two boards on one id), last seen, agent, functions, outbox backlog, bytes uploaded today and outbox streams (a new one per re-flashed card or new store); then what to fix, per device.')
    .option('--limit <n>', PAGE_OPTIONS.limit, intOption('--limit', 1, DEVICE_PAGES.maxLimit))
    .option('--after <id>', PAGE_OPTIONS.after))
    .action(async (f: ApiTarget & PageFlags & { json?: boolean }) => {
      json = f.json === true
      const read = await readDevices<StatusView['devices'][number], StatusView>(new ApiClient(f), '/v1/status', f, io, 'lambkin status')
      // Every page read: the devices of all of them, and the cloud's figures of the last.
      const s: StatusView = { devices: read.devices, cloud: read.last.cloud }
      if (json) { io.stdout(JSON.stringify(read.paged ? { ...s, next: read.next } : s) + '\n'); return }
      io.stdout(table(['DEVICE', 'STATE', 'LAST SEEN', 'AGENT', 'FUNCTIONS', 'BACKLOG', 'UPLOADED TODAY', 'STREAMS'], s.devices.map((d) => [
        d.id, d.state, when(d.lastSeen), d.agent ?? '-', d.functions.length === 0 ? '-' : d.functions.map((x) => x.name).join(','),
        backlogCell(d), bytes(d.uploadedToday), String(d.streams ?? 0)
      ])))
      for (const d of s.devices) for (const p of d.problems ?? []) io.stdout(`${d.id}: ${p}\n`)
      const counts = s.devices.reduce<Record<string, number>>((a, d) => { a[d.state] = (a[d.state] ?? 0) + 1; return a }, {})
      io.stdout(`${s.devices.length} ${s.devices.length === 1 ? 'device' : 'devices'}${read.paged ? ' on this page' : ''}: ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'}\n`)
      // Stores that failed a write take nothing until they reopen (src/store-fault.ts).
      const cf = s.cloud.storeFault
      if (cf != null) io.stdout(`cloud registry: LAMBKIN_STORE_FAULT since ${when(cf.since)}: ${cf.message}; uploads are not acknowledged until it recovers (it retries by itself)\n`)
      for (const d of s.devices) {
        if (d.storeFault != null) io.stdout(`device ${d.id}: LAMBKIN_STORE_FAULT since ${when(d.storeFault.since)}: ${d.storeFault.message}; its triggers wait unacknowledged until the store recovers\n`)
      }
      io.stderr(nextHint('lambkin status', read.next, f.limit))
    })
  return await runProgram(program, argv, io, run, () => json)
}

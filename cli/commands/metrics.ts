// `lambkin metrics`: per-function figures a device synced: invocations, errors by code,
// duration percentiles, GB-seconds (Lambda's billing unit), summed over its metric snapshots.
import type { CliIo } from '../io.js'
import { ApiClient, pathPart } from '../api-client.js'
import type { ApiTarget } from '../api-client.js'
import { apiOptions, command, runProgram } from '../program.js'
import type { Run } from '../program.js'
import { table } from '../table.js'

interface Summary {
  invocations: number
  errors: Record<string, number>
  throttles: number
  timeouts: number
  coldStarts: number
  gbSeconds: number
  durationMs: { p50: number | null; p90: number | null; p99: number | null }
}

const ms = (n: number | null): string => n === null ? '-' : n < 10 ? n.toFixed(2) : n.toFixed(0)

interface MetricsAnswer { snapshots: number, functions: Record<string, Summary>, metricsSnapshotMs?: number | null, state?: string }

/** The device's default metricsSnapshotMs (device/config/defaults.ts), for a device that has not said its own. */
const DEFAULT_SNAPSHOT_MS = 60_000

const every = (msec: number): string => msec % 60_000 === 0 ? `${msec / 60_000} min` : `${msec / 1000} s`

/** Why the table is empty, and when the first figures come: a device writes them every metricsSnapshotMs. */
function noSnapshotsYet (device: string, r: MetricsAnswer): string {
  const period = r.metricsSnapshotMs ?? DEFAULT_SNAPSHOT_MS
  const said = r.metricsSnapshotMs === null || r.metricsSnapshotMs === undefined ? ` (the default; ${device} has not said its own)` : ''
  const online = r.state === 'online' ? '' : ` ${device} is ${r.state ?? 'not online'} now, so none arrive until it connects.`
  return `no metric snapshots from ${device} yet: a device writes one every ${every(period)}${said} (metricsSnapshotMs) once its functions have run, and one when it stops cleanly, so the first comes within ${every(period)} of its first invocation.${online}\n`
}

export async function metricsCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = false
  const program = apiOptions(command('lambkin metrics', io)
    .description('Shows per-function invocations, errors by code, duration percentiles (ms) and GB-seconds from the metric snapshots a device synced.')
    .argument('<device>', 'device id')
    .argument('[fn]', 'only this function'))
    .action(async (device: string, fn: string | undefined, f: ApiTarget & { json?: boolean }) => {
      json = f.json === true
      const r = await new ApiClient(f).call<MetricsAnswer>('GET', `/v1/devices/${pathPart(device, 'device id')}/metrics${fn === undefined ? '' : `?fn=${encodeURIComponent(fn)}`}`)
      if (json) { io.stdout(JSON.stringify(r) + '\n'); return }
      if (r.snapshots === 0) { io.stdout(noSnapshotsYet(device, r)); return }
      io.stdout(table(['FUNCTION', 'INVOCATIONS', 'ERRORS', 'THROTTLES', 'P50 MS', 'P90 MS', 'P99 MS', 'GB-S'], Object.entries(r.functions).map(([name, s]) => [
        name, String(s.invocations),
        Object.keys(s.errors).length === 0 ? '0' : Object.entries(s.errors).map(([c, n]) => `${c.replace(/^LAMBKIN_/, '')}:${n}`).join(','),
        String(s.throttles), ms(s.durationMs.p50), ms(s.durationMs.p90), ms(s.durationMs.p99), s.gbSeconds.toPrecision(3)
      ])))
      io.stdout(`from ${r.snapshots} metric snapshot${r.snapshots === 1 ? '' : 's'}\n`)
    })
  return await runProgram(program, argv, io, run, () => json)
}

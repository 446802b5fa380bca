// `lambkin results` and `lambkin logs`: what a device's functions produced, as the cloud
// stored it. `logs -f` follows new lines as they arrive (long-polling the API).
import type { CliIo } from '../io.js'
import { untilSignal } from '../signals.js'
import { ApiClient } from '../api-client.js'
import type { ApiTarget } from '../api-client.js'
import { apiOptions, command, intOption, runProgram } from '../program.js'
import type { Run } from '../program.js'
import { printable, table, when } from '../table.js'

interface Rec { stream?: string, seq: number, kind: string, fn?: string, time: number, data: unknown }

const query = (o: Record<string, string | number | undefined>): string =>
  Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&')

function preview (r: Rec, width = 80): string {
  const d = r.data as Record<string, unknown> | null
  let s: string
  if (r.kind === 'dead-letter') {
    const e = (d?.error ?? {}) as { code?: string, message?: string }
    s = `${e.code ?? 'error'}: ${e.message ?? ''}`
  } else {
    s = JSON.stringify(d !== null && typeof d === 'object' && 'result' in d ? d.result : d) ?? 'undefined'
  }
  return s.length > width ? s.slice(0, width - 1) + '…' : s
}

export async function resultsCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = false
  const program = apiOptions(command('lambkin results', io)
    .description('Lists a device\'s newest results and dead letters, newest first.')
    .argument('<device>', 'device id')
    .argument('[fn]', 'only this function')
    .option('--limit <n>', 'how many', intOption('--limit', 1, 10_000), 20))
    .action(async (device: string, fn: string | undefined, f: ApiTarget & { json?: boolean, limit: number }) => {
      json = f.json === true
      const { records } = await new ApiClient(f).call<{ records: Rec[] }>('GET', `/v1/devices/${encodeURIComponent(device)}/records?${query({ fn, kind: 'result,dead-letter', limit: f.limit })}`)
      if (json) { io.stdout(JSON.stringify({ records }) + '\n'); return }
      io.stdout(table(['SEQ', 'TIME', 'FUNCTION', 'KIND', 'RESULT'], records.map((r) => [String(r.seq), when(r.time), r.fn ?? '-', r.kind, preview(r)])))
    })
  return await runProgram(program, argv, io, run, () => json)
}

function logLines (r: Rec): string[] {
  const lines = ((r.data as { lines?: Array<{ level?: string, time?: number, msg?: string }> } | null)?.lines) ?? []
  return lines.map((l) => printable(`${when(l.time ?? r.time)} [${r.fn ?? '-'}] ${l.level ?? 'info'} ${l.msg ?? ''}`))
}

export async function logsCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = false
  const program = apiOptions(command('lambkin logs', io)
    .description('Prints a device\'s function logs, oldest first; -f keeps printing new ones until Ctrl-C.')
    .argument('<device>', 'device id')
    .argument('[fn]', 'only this function')
    .option('--limit <n>', 'how many log records to start with', intOption('--limit', 1, 10_000), 50)
    .option('-f, --follow', 'keep printing new log lines as they arrive'))
    .action(async (device: string, fn: string | undefined, f: ApiTarget & { json?: boolean, limit: number, follow?: boolean }) => {
      json = f.json === true
      const api = new ApiClient(f)
      const route = `/v1/devices/${encodeURIComponent(device)}/records`
      const print = (recs: Rec[]): void => {
        for (const r of recs) {
          if (json) io.stdout(JSON.stringify(r) + '\n')
          else for (const l of logLines(r)) io.stdout(l + '\n')
        }
      }
      const first = (await api.call<{ records: Rec[] }>('GET', `${route}?${query({ fn, kind: 'log', limit: f.limit })}`)).records.reverse()
      print(first)
      if (f.follow !== true) return
      // The position is (stream, seq) [W4]: a device's new outbox stream starts its seqs again.
      let after = first.length === 0 ? 0 : first[first.length - 1].seq
      let stream = first.length === 0 ? undefined : first[first.length - 1].stream
      if (first.length === 0) ({ highWater: after, stream } = await api.call<{ highWater: number, stream?: string }>('GET', `/v1/devices/${encodeURIComponent(device)}`))
      const signals = untilSignal({ stdout: () => {}, stderr: () => {} })
      let stop = false
      void signals.stopped.then(() => { stop = true })
      try {
        while (!stop) {
          const next = await Promise.race([
            api.call<{ records: Rec[] }>('GET', `${route}?${query({ fn, kind: 'log', after, stream: stream ?? undefined, limit: 1000, wait: 25_000 })}`),
            signals.stopped.then(() => ({ records: [] as Rec[] }))
          ])
          print(next.records)
          if (next.records.length > 0) ({ seq: after, stream } = next.records[next.records.length - 1])
        }
      } finally {
        signals.dispose()
      }
    })
  return await runProgram(program, argv, io, run, () => json)
}

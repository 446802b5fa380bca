// `lambkin results` and `lambkin logs`: what a device's functions produced, as the cloud
// stored it. A page at a time, newest first, with `--before <cursor>` for the one before it
// (the cursor is the API's `next`); `--all` streams every record as NDJSON; `logs -f` follows
// new lines as they arrive (long-polling the API).
import type { CliIo } from '../io.js'
import { usageError } from '../io.js'
import { untilSignal } from '../signals.js'
import { ApiClient, isPassingOutage, pathPart } from '../api-client.js'
import type { ApiTarget } from '../api-client.js'
import { apiOptions, command, intOption, runProgram } from '../program.js'
import type { Run } from '../program.js'
import { printable, table, when } from '../table.js'

interface Rec { stream?: string, seq: number, kind: string, fn?: string, time: number, data: unknown }
interface Page { records: Rec[], next?: string | null }
interface PageFlags extends ApiTarget { json?: boolean, limit?: number, before?: string, all?: boolean }

/** Records per request while `--all` walks back through everything. */
const ALL_PAGE = 1000

/** How long `logs -f` waits for a cloud API that stopped answering before it gives up with LAMBKIN_CLOUD_UNAVAILABLE, ms. */
const FOLLOW_UNAVAILABLE_MS = 60_000

const query = (o: Record<string, string | number | undefined>): string =>
  Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&')

const recordsRoute = (device: string): string => `/v1/devices/${pathPart(device, 'device id')}/records`

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

/** Adds the paging flags `results` and `logs` share. */
function pagingOptions (c: ReturnType<typeof command>, what: string, defaultLimit: number): ReturnType<typeof command> {
  return c
    .option('--limit <n>', `how many ${what} (default ${defaultLimit}, at most 10000)`, intOption('--limit', 1, 10_000))
    .option('--before <cursor>', 'the page before this cursor (printed after a full page as "more: ... --before <cursor>"; "next" in --json)')
    .option('--all', 'every record, newest first, one JSON object per line (NDJSON), fetched page by page')
}

function checkPaging (f: PageFlags, usage: string, follow = false): void {
  if (f.all === true && f.limit !== undefined) throw usageError('give --all or --limit, not both (--all prints every record)', usage)
  if (follow && (f.all === true || f.before !== undefined)) throw usageError('-f follows new records; it does not take --all or --before', usage)
}

/** Every record from `before` (or the newest) back to the first, one JSON line each. */
async function streamAll (api: ApiClient, device: string, q: Record<string, string | undefined>, before: string | undefined, io: CliIo): Promise<void> {
  let cursor = before
  for (;;) {
    const page = await api.call<Page>('GET', `${recordsRoute(device)}?${query({ ...q, limit: ALL_PAGE, before: cursor })}`)
    for (const r of page.records) io.stdout(JSON.stringify(r) + '\n')
    if (page.next === undefined || page.next === null) return
    cursor = page.next
  }
}

/**
 * The version that produced a result or dead letter (`data.version`, the content version the
 * invoker records); '-' for a record without one (a refused publish, a record from an older agent).
 */
function versionOf (r: Rec): string {
  const v = (r.data as { version?: unknown } | null)?.version
  return typeof v === 'string' && v !== '' ? printable(v) : '-'
}

const more = (cmd: string, device: string, fn: string | undefined, next: string): string =>
  `more: lambkin ${cmd} ${device}${fn === undefined ? '' : ` ${fn}`} --before ${next}\n`

export async function resultsCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = argv.includes('--json')
  const usage = 'usage: lambkin results <device> [fn] [--limit n] [--before cursor] [--all] [--json]'
  const program = apiOptions(pagingOptions(command('lambkin results', io, usage)
    .description('Lists a device\'s newest results and dead letters, newest first, a page at a time, each with the function version that produced it.')
    .argument('<device>', 'device id')
    .argument('[fn]', 'only this function'), 'results', 20))
    .action(async (device: string, fn: string | undefined, f: PageFlags) => {
      json = f.json === true
      checkPaging(f, usage)
      const api = new ApiClient(f)
      const q = { fn, kind: 'result,dead-letter' }
      if (f.all === true) { await streamAll(api, device, q, f.before, io); return }
      const { records, next } = await api.call<Page>('GET', `${recordsRoute(device)}?${query({ ...q, limit: f.limit ?? 20, before: f.before })}`)
      if (json) { io.stdout(JSON.stringify({ records, next: next ?? null }) + '\n'); return }
      io.stdout(table(['SEQ', 'TIME', 'FUNCTION', 'VERSION', 'KIND', 'RESULT'], records.map((r) => [String(r.seq), when(r.time), r.fn ?? '-', versionOf(r), r.kind, preview(r)])))
      if (typeof next === 'string') io.stderr(more('results', device, fn, next))
    })
  return await runProgram(program, argv, io, run, () => json)
}

function logLines (r: Rec): string[] {
  const lines = ((r.data as { lines?: Array<{ level?: string, time?: number, msg?: string }> } | null)?.lines) ?? []
  return lines.map((l) => printable(`${when(l.time ?? r.time)} [${r.fn ?? '-'}] ${l.level ?? 'info'} ${l.msg ?? ''}`))
}

export async function logsCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = argv.includes('--json')
  const usage = 'usage: lambkin logs <device> [fn] [--limit n] [--before cursor] [--all] [-f] [--json]'
  const program = apiOptions(pagingOptions(command('lambkin logs', io, usage)
    .description('Prints a device\'s function logs, oldest first (the newest --limit log records); -f keeps printing new ones until Ctrl-C.')
    .argument('<device>', 'device id')
    .argument('[fn]', 'only this function'), 'log records to start with', 50)
    .option('-f, --follow', 'keep printing new log lines as they arrive'))
    .action(async (device: string, fn: string | undefined, f: PageFlags & { follow?: boolean }) => {
      json = f.json === true
      checkPaging(f, usage, f.follow === true)
      const api = new ApiClient(f)
      const route = recordsRoute(device)
      if (f.all === true) { await streamAll(api, device, { fn, kind: 'log' }, f.before, io); return }
      const print = (recs: Rec[]): void => {
        for (const r of recs) {
          if (json) io.stdout(JSON.stringify(r) + '\n')
          else for (const l of logLines(r)) io.stdout(l + '\n')
        }
      }
      const page = await api.call<Page>('GET', `${route}?${query({ fn, kind: 'log', limit: f.limit ?? 50, before: f.before })}`)
      const first = page.records.reverse()
      print(first)
      if (f.follow !== true) {
        if (typeof page.next === 'string') io.stderr(more('logs', device, fn, page.next).replace(/^more:/, 'earlier:'))
        return
      }
      // The position is (stream, seq) [W4]: a device's new outbox stream starts its seqs again.
      let after = first.length === 0 ? 0 : first[first.length - 1].seq
      let stream = first.length === 0 ? undefined : first[first.length - 1].stream
      if (first.length === 0) ({ highWater: after, stream } = await api.call<{ highWater: number, stream?: string }>('GET', `/v1/devices/${pathPart(device, 'device id')}`))
      const signals = untilSignal({ stdout: () => {}, stderr: () => {} })
      let stop = false
      // Ctrl-C cuts the long poll short: a request in flight would keep the process up to its wait.
      const abort = new AbortController()
      void signals.stopped.then(() => { stop = true; abort.abort() })
      const idle = async (ms: number): Promise<void> => { await Promise.race([new Promise((resolve) => setTimeout(resolve, ms)), signals.stopped]) }
      let unavailableSince: number | undefined
      try {
        while (!stop) {
          let next: Page
          try {
            next = await api.call<Page>('GET', `${route}?${query({ fn, kind: 'log', after, stream: stream ?? undefined, limit: 1000, wait: 25_000 })}`, undefined, 35_000, abort.signal)
          } catch (err) {
            if (stop) break
            // A cloud or its database restarting (an upgrade, a reboot) is waited for, as a followed deploy waits for it (docs/cli.md).
            if (!isPassingOutage(err)) throw err
            unavailableSince ??= Date.now()
            if (Date.now() - unavailableSince >= FOLLOW_UNAVAILABLE_MS) throw err
            await idle(1000)
            continue
          }
          unavailableSince = undefined
          print(next.records)
          if (next.records.length > 0) ({ seq: after, stream } = next.records[next.records.length - 1])
        }
      } finally {
        signals.dispose()
      }
    })
  return await runProgram(program, argv, io, run, () => json)
}

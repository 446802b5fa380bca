// `lambkin outbox --data <dir>`: shows what an agent has buffered, as a table or JSON: from the
// store when the agent is stopped, through the agent's local HTTP port while it runs (agent-outbox.ts).
import path from 'node:path'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { parseDecimalInteger } from '../../src/decimal.js'
import { controlCharProblem } from '../../src/control-chars.js'
import { LevelOutboxStore } from '../../device/store/level-store.js'
import { jsonSafe, preview } from '../outbox-preview.js'
import { readThroughAgent } from '../agent-outbox.js'
import type { OutboxDump } from '../agent-outbox.js'
import { table } from '../table.js'
import { command, runProgram } from '../program.js'
import type { Run } from '../program.js'
import { RECORD_KINDS, isRecordKind } from '../../device/store/types.js'
import { DEVICE_DEFAULTS } from '../../device/config/defaults.js'
import type { OutboxRecord, RecordKind, StoreStats } from '../../device/store/types.js'

export interface OutboxCommandIo {
  stdout: (s: string) => void
  stderr: (s: string) => void
}

export const OUTBOX_USAGE = `usage: lambkin outbox [--data <dir>] [--json] [--limit n] [--kind ${RECORD_KINDS.join('|')}]...`

/**
 * The folder to read: --data, else the one lambkin device uses when not told: LAMBKIN_DATA (an
 * empty one counting as unset, as there), else ./.lambkin/data.
 * @throws LambkinError LAMBKIN_CONFIG_INVALID: a control character in it (a "\r" from an env file with CRLF), refused as lambkin device refuses it.
 */
function dataDir (flag: string | undefined): string {
  const env = process.env.LAMBKIN_DATA
  const [dir, from] = flag !== undefined ? [flag, '--data'] : env !== undefined && env !== '' ? [env, 'environment variable LAMBKIN_DATA'] : [DEVICE_DEFAULTS.dataDir, '']
  const problem = controlCharProblem(dir)
  if (problem !== undefined) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `${from} ${problem}`, { details: { key: 'dataDir' } })
  return dir
}

/** Returns the exit code: 0 ok, 1 the store could not be read, 2 bad usage. */
export async function outboxCommand (args: string[], io: OutboxCommandIo): Promise<number> {
  const run: Run = { code: 0 }
  const program = command('lambkin outbox', io, OUTBOX_USAGE)
    .description('Lists what an agent has buffered in its data folder, oldest first, then a summary (records, bytes, quota drops per kind, expired, last seq, publishes waiting). LevelDB allows one process at a time, so while the agent runs this asks the agent instead, through its metricsPort (found in <dir>/agent-http.json).')
    .option('--data <dir>', `the agent's data dir, as lambkin device takes it (default: LAMBKIN_DATA, else ${DEVICE_DEFAULTS.dataDir})`)
    .option('--json', 'print { records, stats } with every record in full')
    .option('--limit <n>', 'at most this many records (1 to 100000)', '1000')
    .option('--kind <kind>', `only records of this kind (${RECORD_KINDS.join(', ')}); repeat for several`, (k: string, all: string[] = []) => [...all, k])
    .action(async (f: { data?: string, json?: boolean, limit: string, kind?: string[] }) => {
      const limit = parseDecimalInteger(f.limit)
      if (limit === undefined || limit < 1 || limit > 100_000) throw new LambkinError(ErrorCodes.USAGE, `--limit must be an integer between 1 and 100000, got "${f.limit}"\n${OUTBOX_USAGE}`)
      const bad = (f.kind ?? []).find((k) => !isRecordKind(k))
      if (bad !== undefined) throw new LambkinError(ErrorCodes.USAGE, `--kind "${bad}" is not a record kind (${RECORD_KINDS.join(', ')})\n${OUTBOX_USAGE}`)
      run.code = await show(path.resolve(dataDir(f.data)), f.json === true, limit, f.kind as RecordKind[] | undefined, io)
    })
  return await runProgram(program, args, io, run)
}

async function show (data: string, json: boolean, limit: number, kinds: RecordKind[] | undefined, io: OutboxCommandIo): Promise<number> {
  let store: LevelOutboxStore | undefined
  try {
    let dump: OutboxDump
    let via = ''
    try {
      store = await LevelOutboxStore.open({ dir: data, createIfMissing: false })
      dump = { records: await store.read({ limit, kinds }), stats: await store.stats() }
    } catch (err) {
      if (!(err instanceof LambkinError) || err.details.reason !== 'locked') throw err
      dump = await readThroughAgent(data, limit, kinds)
      via = ' (read through the running agent)'
    }
    const { records, stats } = dump
    io.stdout(json ? JSON.stringify({ records, stats }, jsonSafe) + '\n' : recordTable(records) + summary(records, stats) + via + '\n')
    return 0
  } catch (err) {
    const e = err instanceof LambkinError ? err : new LambkinError(ErrorCodes.STORE_ERROR, errorMessage(err), { cause: err })
    io.stderr(`${e.code}: ${e.message}\n`)
    return 1
  } finally {
    await store?.close().catch(() => {})
  }
}

function recordTable (records: OutboxRecord[]): string {
  const rows = records.map((r) => [String(r.seq), r.kind, r.fn ?? '-', isoTime(r.time), String(r.bytes), preview(r.kind, r.data)])
  return rows.length === 0 ? '' : table(['SEQ', 'KIND', 'FN', 'TIME', 'BYTES', 'DATA'], rows)
}

function isoTime (t: number): string {
  const d = new Date(t)
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString()
}

function summary (shown: OutboxRecord[], s: StoreStats): string {
  const dropped = RECORD_KINDS.filter((k) => s.dropped[k] > 0).map((k) => `${k} ${s.dropped[k]}`)
  if (s.droppedPublishes > 0) dropped.push(`publish ${s.droppedPublishes}`)
  const more = s.count > shown.length ? ` (showing ${shown.length})` : ''
  return `${s.count} records${more}, ${s.bytes} bytes; dropped: ${dropped.length === 0 ? '0' : dropped.join(', ')}; expired: ${s.expired}; last seq ${s.lastSeq}; ${s.pendingPublishes} publishes pending (${s.publishBytes} bytes)`
}

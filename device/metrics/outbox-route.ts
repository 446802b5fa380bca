// GET /outbox on the agent's local HTTP server: what `lambkin outbox --data` shows, read through
// the running agent (LevelDB lets one process open the store). Read-only, answered to loopback
// clients only whatever metricsHost is, and only with the token of `<dataDir>/agent-http.json`
// (agent-endpoint.ts). Query: `limit` (1 to 100000, default 1000), `kind` (repeatable).
import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isLoopbackHost } from '../../src/loopback.js'
import { parseDecimalInteger } from '../../src/decimal.js'
import { jsonSafe } from '../store/json-safe.js'
import { isRecordKind } from '../store/types.js'
import type { OutboxRecord, ReadOptions, RecordKind, StoreStats } from '../store/types.js'

/** What the route needs of the store. */
export interface OutboxSource {
  read: (opts: ReadOptions) => Promise<OutboxRecord[]>
  stats: () => Promise<StoreStats>
}

export interface OutboxRouteOptions { store: OutboxSource, token: string }

/** The largest `limit`, as `lambkin outbox --limit` allows. */
export const OUTBOX_ROUTE_MAX_LIMIT = 100_000

function send (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' })
  res.end(body)
}

function tokenMatches (header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (\S+)$/.exec(header ?? '')?.[1] ?? '')
  const want = Buffer.from(token)
  return given.length === want.length && timingSafeEqual(given, want)
}

/** Answers one GET /outbox (the server has checked the method). */
export async function handleOutbox (req: IncomingMessage, res: ServerResponse, o: OutboxRouteOptions): Promise<void> {
  if (!isLoopbackHost(req.socket.remoteAddress ?? '')) return send(res, 403, 'the outbox is answered on this machine only (loopback)\n')
  if (!tokenMatches(req.headers.authorization, o.token)) return send(res, 401, 'a token from <dataDir>/agent-http.json is needed (lambkin outbox --data <dir> sends it)\n')
  const q = new URL(req.url ?? '/', 'http://agent').searchParams
  const rawLimit = q.get('limit') ?? '1000'
  const limit = parseDecimalInteger(rawLimit)
  if (limit === undefined || limit < 1 || limit > OUTBOX_ROUTE_MAX_LIMIT) return send(res, 400, `limit must be an integer between 1 and ${OUTBOX_ROUTE_MAX_LIMIT}, got "${rawLimit}"\n`)
  const kinds = q.getAll('kind')
  const bad = kinds.find((k) => !isRecordKind(k))
  if (bad !== undefined) return send(res, 400, `kind "${bad}" is not a record kind\n`)
  try {
    const records = await o.store.read({ limit, kinds: kinds.length === 0 ? undefined : kinds as RecordKind[] })
    const stats = await o.store.stats()
    send(res, 200, JSON.stringify({ records, stats }, jsonSafe), 'application/json')
  } catch (err) {
    const e = err as { code?: string, message?: string }
    send(res, 503, JSON.stringify({ code: e.code ?? 'LAMBKIN_STORE_ERROR', message: e.message ?? String(err) }), 'application/json')
  }
}

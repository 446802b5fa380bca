// `lambkin outbox` on a running agent: LevelDB lets one process open the store, so the outbox
// is read through the agent's local HTTP port instead (device/metrics/outbox-route.ts), found
// and authorised by `<dataDir>/agent-http.json` (device/metrics/agent-endpoint.ts). When no
// agent answers there, the error says what to do.
import { ErrorCodes, errorMessage, LambkinError } from '../src/errors.js'
import { readEndpoint, ENDPOINT_FILE } from '../device/metrics/agent-endpoint.js'
import type { OutboxRecord, RecordKind, StoreStats } from '../device/store/types.js'

export interface OutboxDump { records: OutboxRecord[], stats: StoreStats }

/** How long the agent has to answer, ms: a busy board may take a moment over a large read. */
const ANSWER_MS = 30_000

function refuse (dir: string, why: string, cause?: unknown): never {
  throw new LambkinError(ErrorCodes.STORE_ERROR, `the outbox store in ${dir} is locked by a running agent (LevelDB lets one process open it), ${why}`, { cause, details: { dir, reason: 'locked' } })
}

/**
 * Reads `limit` records (of `kinds`) and the stats through the agent running on `dir`.
 * @throws LambkinError LAMBKIN_STORE_ERROR (details.reason "locked") saying how to reach the agent.
 */
export async function readThroughAgent (dir: string, limit: number, kinds: RecordKind[] | undefined): Promise<OutboxDump> {
  const e = readEndpoint(dir)
  if (e === undefined) {
    refuse(dir, `and it serves no local HTTP port to read it through (no ${ENDPOINT_FILE} in the data folder): restart that agent with --metrics-port <n> (metricsPort in its config, or LAMBKIN_METRICS_PORT; 0 picks a free port, on 127.0.0.1 unless metricsHost says otherwise), then run lambkin outbox --data ${dir} again; or stop the agent to read the store directly`)
  }
  const q = new URLSearchParams({ limit: String(limit) })
  for (const k of kinds ?? []) q.append('kind', k)
  let res: Response
  try {
    res = await fetch(`${e.url}/outbox?${q.toString()}`, { headers: { authorization: `Bearer ${e.token}` }, signal: AbortSignal.timeout(ANSWER_MS) })
  } catch (err) {
    const c = (err as { cause?: { code?: string } }).cause?.code ?? errorMessage(err)
    refuse(dir, `and its local HTTP port ${e.url} (from ${ENDPOINT_FILE}, agent pid ${e.pid}) did not answer (${c}): is that agent still starting, or was it killed while another process holds the store? Run lambkin outbox again once it prints its ready line, or stop the process holding the store`, err)
  }
  const body = await res.text()
  if (res.status === 404) refuse(dir, `and the agent at ${e.url} does not serve its outbox (an older lambkin?): stop it to read the store directly`)
  if (res.status !== 200) refuse(dir, `and the agent at ${e.url} refused to read it: HTTP ${res.status} ${body.trim()}`)
  return JSON.parse(body) as OutboxDump
}

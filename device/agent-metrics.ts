// The agent's metrics step (Agent#startMetrics in agent.ts): Prometheus text on metricsPort,
// the endpoint file `lambkin outbox --data` finds a running agent by, and the metric snapshots
// written into the outbox every metricsSnapshotMs (synced to the cloud as records).
import type { Clock } from '../src/clock.js'
import { errorMessage } from '../src/errors.js'
import type { LogFn } from '../src/log-priority.js'
import { isLoopbackHost } from '../src/loopback.js'
import type { Undo } from '../src/scope.js'
import type { DeviceConfig } from './config/index.js'
import { startMetricsServer } from './metrics/index.js'
import type { FunctionMetrics, MetricsServer } from './metrics/index.js'
import { ENDPOINT_FILE, endpointToken, removeEndpoint, writeEndpoint } from './metrics/agent-endpoint.js'
import type { LevelOutboxStore } from './store/index.js'

export interface AgentMetricsOptions {
  config: DeviceConfig
  store: LevelOutboxStore
  metrics: FunctionMetrics
  clock: Clock
  log: LogFn
  /** Adds an undo to the agent's scope (the server and the endpoint file close with it). */
  defer: (name: string, undo: Undo) => void
}

/**
 * Serves the metrics (when metricsPort is set) and starts the snapshot timer. The store's lock
 * is the agent's, so an endpoint file left by an agent killed earlier names no one: it goes.
 * Returns the port served (undefined without metricsPort) and the undo that stops the timer
 * after writing one last snapshot.
 */
export async function startAgentMetrics (o: AgentMetricsOptions): Promise<{ port: number | undefined, undo: Undo }> {
  const c = o.config
  const { store, metrics, log } = o
  try { removeEndpoint(c.dataDir) } catch {}
  let port: number | undefined
  if (c.metricsPort !== undefined) {
    const token = endpointToken()
    const server: MetricsServer = await startMetricsServer({ port: c.metricsPort, host: c.metricsHost, metrics, outbox: { store, token } })
    port = server.port
    o.defer('metrics server', () => server.close())
    // `lambkin outbox --data` finds the running agent here (agent-endpoint.ts), on loopback,
    // the only address the outbox route answers (a wildcard listener has it too).
    const host = isLoopbackHost(c.metricsHost) ? c.metricsHost : c.metricsHost === '0.0.0.0' ? '127.0.0.1' : c.metricsHost === '::' ? '::1' : undefined
    if (host !== undefined) {
      try {
        writeEndpoint(c.dataDir, { url: `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`, token, pid: process.pid })
        o.defer('endpoint file', () => { removeEndpoint(c.dataDir) })
      } catch (err) {
        // A full card must not stop the agent over a convenience: lambkin outbox then says it cannot reach it.
        log(`lambkin outbox cannot read this agent's outbox while it runs: writing ${ENDPOINT_FILE} failed (${errorMessage(err)})`, 'warning')
      }
    }
  }
  const snapshot = async (): Promise<void> => {
    const delta = metrics.snapshotDelta()
    if (Object.keys(delta.functions ?? {}).length === 0) return
    await store.commit({ records: [{ kind: 'metric', time: o.clock.now(), data: delta }] }).catch((err: unknown) => { log(`metrics snapshot not stored: ${errorMessage(err)}`, 'warning') })
  }
  const timer = setInterval(() => { void snapshot() }, c.metricsSnapshotMs)
  timer.unref()
  return { port, undo: async () => { clearInterval(timer); await snapshot() } }
}

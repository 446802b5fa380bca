// The agent's local HTTP endpoint on node:http: GET /metrics (Prometheus), GET /healthz, and
// GET /outbox for `lambkin outbox` on a running agent (outbox-route.ts: loopback and a token).
// It binds to loopback by default, since the figures name every function on the board.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { CONTENT_TYPE } from './exposition.js'
import { handleOutbox } from './outbox-route.js'
import type { OutboxRouteOptions } from './outbox-route.js'

export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one (read it back from the result). */
  port: number
  host?: string
  metrics: { toPrometheus: () => string }
  /** Serves GET /outbox from this store to loopback clients holding the token; none: 404. */
  outbox?: OutboxRouteOptions
}

export interface MetricsServer {
  port: number
  host: string
  /** Stops listening and drops open (keep-alive) connections; safe to call twice. */
  close: () => Promise<void>
}

export const METRICS_SERVER_DEFAULTS = Object.freeze({ host: '127.0.0.1' })

function reply (res: ServerResponse, status: number, type: string, body: string, head: boolean, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra })
  res.end(head ? undefined : body)
}

function handle (req: IncomingMessage, res: ServerResponse, metrics: MetricsServerOptions['metrics'], outbox: OutboxRouteOptions | undefined): void {
  // Scrapers may add query parameters; only the path picks the route.
  const path = (req.url ?? '/').split('?')[0]
  if (path !== '/metrics' && path !== '/healthz' && (path !== '/outbox' || outbox === undefined)) {
    reply(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics or /healthz\n', req.method === 'HEAD')
    return
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false, { allow: 'GET, HEAD' })
    return
  }
  if (path === '/outbox' && outbox !== undefined) {
    void handleOutbox(req, res, outbox).catch((err: Error) => { if (!res.headersSent) reply(res, 500, 'text/plain; charset=utf-8', `outbox failed: ${err.message}\n`, false) })
    return
  }
  const head = req.method === 'HEAD'
  if (path === '/healthz') {
    reply(res, 200, 'text/plain; charset=utf-8', 'ok', head)
    return
  }
  let body: string
  try {
    body = metrics.toPrometheus()
  } catch (err) {
    reply(res, 500, 'text/plain; charset=utf-8', `metrics failed: ${err instanceof Error ? err.message : String(err)}\n`, head)
    return
  }
  reply(res, 200, CONTENT_TYPE, body, head)
}

export async function startMetricsServer (opts: MetricsServerOptions): Promise<MetricsServer> {
  const { port, metrics } = opts
  // An explicit `host: undefined` (an unset config key passed through) means the default.
  const host = opts.host ?? METRICS_SERVER_DEFAULTS.host
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new LambkinError(ErrorCodes.CONFIG_INVALID, `metrics server option "port" must be an integer between 0 and 65535, got ${String(port)}`, { details: { key: 'port' } })
  }
  if (typeof host !== 'string' || host.length === 0) {
    throw new LambkinError(ErrorCodes.CONFIG_INVALID, `metrics server option "host" must be a host name or address, got ${String(host)}`, { details: { key: 'host' } })
  }
  if (typeof metrics?.toPrometheus !== 'function') {
    throw new LambkinError(ErrorCodes.CONFIG_INVALID, 'metrics server option "metrics" must have a toPrometheus() method', { details: { key: 'metrics' } })
  }
  // Loaded here, not at import: an agent without a metrics port never loads node:http.
  const { createServer } = await import('node:http')
  const server = createServer((req, res) => handle(req, res, metrics, opts.outbox))
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new LambkinError(ErrorCodes.CONFIG_INVALID, `the metrics server could not listen on ${host}:${port} (${err.code ?? err.message}); pick another metricsPort or free that one`, { cause: err, details: { key: 'metricsPort', port, host } }))
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  let closing: Promise<void> | undefined
  return {
    port: (server.address() as AddressInfo).port,
    host,
    close: async () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return await closing
    }
  }
}

// The operator API: JSON over HTTP (Fastify), bound to 127.0.0.1 by default, every route but
// /v1/health behind the operator token. The CLI's operator commands use it; nothing reaches
// the registry any other way (docs/architecture.md, "Cloud side").
import { timingSafeEqual, createHash } from 'node:crypto'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { isValidId } from '../../src/ids.js'
import { GENERATED_SECRET_PARAMS, hashPassword, newSecret } from '../../src/secrets.js'
import { WIRE_RECORD_KINDS, isStreamId } from '../../src/wire/index.js'
import type { WireRecordKind } from '../../src/wire/index.js'
import { LEGACY_STREAM } from '../registry/index.js'
import type { DeviceRow, Registry } from '../registry/index.js'
import { deviceView, summarizeMetrics } from './views.js'
import type { LastSeen } from '../last-seen.js'
import { bad, intParam } from './params.js'
import { registerDeployRoutes } from './deploy-routes.js'
import { registerRotateRoute } from './rotate-route.js'
import type { DeployApi } from './deploy-routes.js'
import { isPublicRoute, registerDashboardRoutes } from './dashboard-routes.js'

export interface ApiOptions {
  host: string
  port: number
  /** The operator token; requests carry it as `Authorization: Bearer <token>`. */
  token: string
  registry: Registry
  now: () => number
  /** Facts about the running cloud for /v1/status (connections, refusals, ingest counters). */
  cloudStats: () => Record<string, unknown>
  /** Cuts a device off at once (closes its live connection): on revocation and on a rotated secret. */
  onRevoke: (id: string) => void
  /** Whether a device is connected to this cloud right now (its state is then not taken on trust). */
  isConnected: (id: string) => boolean
  /** Long-poll bound for `wait` on record queries and rollouts, ms. */
  maxWaitMs?: number
  /** Bundles, rollouts and remote invoke (issue 12). */
  deploy?: DeployApi
  /** Device ages on the monotonic clock (last-seen.ts) or the database's (registry/pg/seen.ts); without it, on `now()`. */
  lastSeen?: Pick<LastSeen, 'nowFor'>
}

export interface Api { port: number, url: string, close: () => Promise<void> }

/** HTTP status for each error code the API answers with. */
const STATUS: Record<string, number> = {
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.DEVICE_NOT_FOUND]: 404,
  [ErrorCodes.DEVICE_EXISTS]: 409,
  [ErrorCodes.REQUEST_INVALID]: 400,
  [ErrorCodes.BUNDLE_INVALID]: 400,
  [ErrorCodes.SIGNATURE_INVALID]: 400,
  [ErrorCodes.MANIFEST_INVALID]: 400,
  [ErrorCodes.LIMIT_EXCEEDS_CAP]: 400,
  [ErrorCodes.KEY_UNTRUSTED]: 403,
  [ErrorCodes.ROLLOUT_NOT_FOUND]: 404,
  [ErrorCodes.FUNCTION_NOT_FOUND]: 404,
  [ErrorCodes.DEVICE_OFFLINE]: 409,
  [ErrorCodes.CLOSED]: 503,
  [ErrorCodes.DB_UNAVAILABLE]: 503,
  [ErrorCodes.INVOKE_TIMEOUT]: 504
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

function kindsParam (v: unknown): WireRecordKind[] | undefined {
  if (v === undefined || v === '') return undefined
  const list = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(','))
  for (const k of list) if (!(WIRE_RECORD_KINDS as readonly string[]).includes(k)) throw bad(`kind must be one of ${WIRE_RECORD_KINDS.join(', ')}; got ${k}`)
  return list as WireRecordKind[]
}

/** The API's body limit on every route that sets none, bytes. */
export const API_BODY_LIMIT = 64 * 1024

export async function startApi (o: ApiOptions): Promise<Api> {
  // forceCloseConnections: a long-poll (logs -f) must not hold a stopping cloud for its 25 s.
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: API_BODY_LIMIT, forceCloseConnections: true })
  let closing = false
  app.addHook('onClose', async () => { closing = true })
  const want = digest(o.token)
  app.addHook('onRequest', async (req) => {
    if (req.url === '/v1/health' || isPublicRoute(req.url)) return
    const h = req.headers.authorization ?? ''
    const given = h.startsWith('Bearer ') ? h.slice(7) : ''
    if (!timingSafeEqual(digest(given), want)) throw new LambkinError(ErrorCodes.UNAUTHORIZED, 'missing or wrong operator token: pass --token or set LAMBKIN_TOKEN (the token is in <cloud data>/operator-token)')
  })
  app.setErrorHandler(async (err: Error, req, reply) => {
    const code = (err as { code?: string }).code
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      // Fastify's own message names no limit; say which one and what to do.
      const limit = req.routeOptions.bodyLimit ?? API_BODY_LIMIT
      return await reply.status(413).send({ error: { code: ErrorCodes.REQUEST_INVALID, message: `request body is too large: ${req.method} ${req.routeOptions.url ?? req.url} takes at most ${limit} bytes (${Math.floor(limit / 1024)} KiB); send a smaller body (a smaller event or bundle)` } })
    }
    if (typeof code === 'string' && code in STATUS) return await reply.status(STATUS[code]).send({ error: { code, message: err.message } })
    const status = (err as { statusCode?: number }).statusCode ?? 500
    if (status < 500) return await reply.status(status).send({ error: { code: ErrorCodes.REQUEST_INVALID, message: err.message } })
    return await reply.status(500).send({ error: { code: ErrorCodes.STORE_ERROR, message: err.message } })
  })
  const device = async (id: string): Promise<NonNullable<Awaited<ReturnType<Registry['getDevice']>>>> => {
    const d = isValidId(id) ? await o.registry.getDevice(id) : undefined
    if (d === undefined) throw new LambkinError(ErrorCodes.DEVICE_NOT_FOUND, `no device ${id}; see lambkin devices`)
    return d
  }

  // 503 while the registry is faulted (src/store-fault.ts) or its database is out of reach
  // (registry/pg/availability.ts), so a load balancer or monitor sees it.
  app.get('/v1/health', async (_req, reply) => {
    const fault = o.registry.storeFault?.()
    if (fault === undefined) return { ok: true }
    const message = fault.code === ErrorCodes.DB_UNAVAILABLE
      ? `the cloud's PostgreSQL database cannot be reached (${fault.message}); uploads are not acknowledged meanwhile (devices keep their records), and everything resumes by itself when it answers`
      : `the cloud registry failed a write (${fault.message}) and takes none until it has reopened and checked itself, which it retries alone; uploads are not acknowledged meanwhile`
    return await reply.status(503).send({ ok: false, error: { code: fault.code, message, since: fault.since, attempts: fault.attempts } })
  })
  // A device's state ages its lastSeen on the clock that does not jump (last-seen.ts); its
  // functions follow its last status or report, whichever came last.
  const nowFor = (d: { id: string, lastSeen?: number }): number => o.lastSeen?.nowFor(d.id, d.lastSeen) ?? o.now()
  const view = async (d: DeviceRow): Promise<Record<string, unknown>> => deviceView(d, nowFor(d), o.isConnected(d.id), await o.registry.getReported(d.id))
  app.get('/v1/devices', async () => ({ devices: await Promise.all((await o.registry.listDevices()).map(view)) }))
  app.post('/v1/devices', async (req, reply) => {
    const body = (req.body ?? {}) as { id?: unknown, group?: unknown }
    if (!isValidId(body.id)) throw bad('id must match ^[a-z0-9][a-z0-9_-]{0,62}$')
    if (body.group !== undefined && body.group !== null && !isValidId(body.group)) throw bad('group must match ^[a-z0-9][a-z0-9_-]{0,62}$')
    const secret = newSecret()
    const group = typeof body.group === 'string' ? body.group : undefined
    await o.registry.addDevice({ id: body.id, group, secretHash: await hashPassword(secret, GENERATED_SECRET_PARAMS), createdAt: o.now() })
    return await reply.status(201).send({ id: body.id, group: group ?? null, secret })
  })
  app.post('/v1/devices/:id/revoke', async (req) => {
    const { id } = req.params as { id: string }
    await device(id)
    const at = o.now()
    await o.registry.revokeDevice(id, at)
    o.onRevoke(id)
    return { id, revokedAt: (await device(id)).revokedAt ?? at }
  })
  registerRotateRoute(app, { registry: o.registry, now: o.now, device, disconnect: o.onRevoke })
  app.get('/v1/status', async () => ({ devices: await Promise.all((await o.registry.listDevices()).map(view)), cloud: o.cloudStats() }))
  app.get('/v1/devices/:id', async (req) => await view(await device((req.params as { id: string }).id)))
  app.get('/v1/devices/:id/records', async (req) => {
    const { id } = req.params as { id: string }
    await device(id)
    const q = req.query as Record<string, unknown>
    const fn = q.fn === undefined || q.fn === '' ? undefined : String(q.fn)
    if (fn !== undefined && !isValidId(fn)) throw bad('fn must be a function name')
    // [W4] `after` is a seq of `stream` (default: the device's current one); later streams follow it.
    const stream = q.stream === undefined || q.stream === '' ? undefined : String(q.stream)
    if (stream !== undefined && stream !== LEGACY_STREAM && !isStreamId(stream)) throw bad('stream must be a stream id (hex) or legacy')
    const query = { fn, kinds: kindsParam(q.kind), limit: intParam(q.limit, 'limit', 1, 10_000), afterSeq: intParam(q.after, 'after', 0, Number.MAX_SAFE_INTEGER), stream }
    const wait = Math.min(intParam(q.wait, 'wait', 0, 60_000) ?? 0, o.maxWaitMs ?? 30_000)
    // Following a log: with `after` and `wait`, answer as soon as something newer is stored.
    const until = Date.now() + wait
    for (;;) {
      const records = await o.registry.records(id, query)
      if (records.length > 0 || Date.now() >= until || query.afterSeq === undefined || closing) return { records }
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, until - Date.now())))
    }
  })
  app.get('/v1/devices/:id/metrics', async (req) => {
    const { id } = req.params as { id: string }
    await device(id)
    const q = req.query as Record<string, unknown>
    const fn = q.fn === undefined || q.fn === '' ? undefined : String(q.fn)
    const records = await o.registry.records(id, { kinds: ['metric'], limit: 10_000 })
    return { device: id, snapshots: records.length, functions: summarizeMetrics(records, fn) }
  })

  registerDashboardRoutes(app, { registry: o.registry, token: o.token, now: o.now, isConnected: o.isConnected })
  if (o.deploy !== undefined) registerDeployRoutes(app, o.deploy, { device, maxWaitMs: o.maxWaitMs ?? 30_000, closing: () => closing })

  try {
    await app.listen({ host: o.host, port: o.port })
  } catch (err) {
    throw new LambkinError(ErrorCodes.CONFIG_INVALID, `the operator API cannot listen on ${o.host}:${o.port} (${(err as { code?: string }).code ?? (err as Error).message}); choose another --api-port`, { cause: err, details: { key: 'api-port' } })
  }
  const addr = app.server.address() as { port: number }
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host
  return { port: addr.port, url: `http://${hostForUrl}:${addr.port}`, close: async () => { await app.close() } }
}

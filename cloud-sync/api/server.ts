// The operator API: JSON over HTTP (Fastify), bound to 127.0.0.1 by default, every route but
// /v1/health behind the operator token. The CLI's operator commands use it; nothing reaches
// the registry any other way (docs/architecture.md, "Cloud side").
import { timingSafeEqual, createHash } from 'node:crypto'
import { readPemFlag } from '../../src/small-file.js'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { isValidId } from '../../src/ids.js'
import { GENERATED_SECRET_PARAMS, hashPassword, newSecret } from '../../src/secrets.js'
import { WIRE_RECORD_KINDS } from '../../src/wire/index.js'
import type { WireRecordKind } from '../../src/wire/index.js'
import type { DeviceRow, Registry, ReportedRow } from '../registry/index.js'
import { devicePageParams, readDevicePage } from './device-pages.js'
import { brokerLag } from '../broker/credentials.js'
import type { CredentialSink } from '../broker/credentials.js'
import { deviceState, deviceView, recordView, summarizeMetrics } from './views.js'
import type { LastSeen } from '../last-seen.js'
import { bad } from './params.js'
import { registerDeployRoutes } from './deploy-routes.js'
import { registerRecordsRoute, unknownFunction } from './records-route.js'
import { registerRotateRoute } from './rotate-route.js'
import { registerConflictRoute } from './conflict-route.js'
import { clientErrorHandler, frameworkErrors, installErrorAnswers } from './error-answers.js'
import type { DeployApi } from './deploy-routes.js'
import { isPublicRoute, registerDashboardRoutes } from './dashboard-routes.js'
import type { FeedWake } from './fleet-feed.js'
import type { StoreWatch } from '../coord/stored-notes.js'

export interface ApiOptions {
  host: string
  port: number
  /** The operator token; requests carry it as `Authorization: Bearer <token>`. */
  token: string
  registry: Registry
  now: () => number
  /** Facts about the running cloud for /v1/status (connections, refusals, ingest counters). */
  cloudStats: () => Record<string, unknown>
  /** Where devices' broker credentials follow the registry (broker/credentials.ts): closes connections, or drives an external broker. */
  credentials: CredentialSink
  /** Whether a device is connected to this cloud right now (its state is then not taken on trust). */
  isConnected: (id: string) => boolean
  /** Long-poll bound for `wait` on record queries and rollouts, ms. */
  maxWaitMs?: number
  /** Wakes record followers when any instance stored a device's records (coord/stored-notes.ts); without it they poll every 250 ms. */
  watchStores?: (device: string) => StoreWatch
  /** Wakes the dashboard's fleet feed on notes from any instance (api/fleet-feed.ts); without it the feed polls at its pace. */
  feedWake?: FeedWake
  /** Bundles, rollouts and remote invoke (docs/cloud.md, "The operator API"). */
  deploy?: DeployApi
  /** Device ages on the monotonic clock (last-seen.ts) or the database's (registry/pg/seen.ts); without it, on `now()`. */
  lastSeen?: Pick<LastSeen, 'nowFor'>
  /** The time device takeovers are counted against (broker/takeovers.ts, Takeovers.now); without it, `now()`. */
  takeoversNow?: () => number
  /** The whole request (headers and body) must arrive within this, ms; default API_DEFAULTS. */
  requestTimeoutMs?: number
  /** Serve HTTPS with this PEM certificate and key (`lambkin cloud --api-tls-cert/--api-tls-key`). */
  tls?: { certFile: string, keyFile: string }
}

export interface Api { port: number, url: string, close: () => Promise<void> }

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

function kindsParam (v: unknown): WireRecordKind[] | undefined {
  if (v === undefined || v === '') return undefined
  const list = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(','))
  for (const k of list) if (!(WIRE_RECORD_KINDS as readonly string[]).includes(k)) throw bad(`kind must be one of ${WIRE_RECORD_KINDS.join(', ')}; got ${k}`)
  return list as WireRecordKind[]
}

/** The API's body limit on every route that sets none, bytes. */
export const API_BODY_LIMIT = 64 * 1024

export const API_DEFAULTS = Object.freeze({
  /**
   * A request whose headers and body have not all arrived after this is answered 408 and
   * closed (Fastify's default, 0, kept a slow body open for ever). A 1.4 MB bundle upload
   * needs 47 KB/s for it. Long-polls are not cut: this bounds receiving, not answering.
   */
  requestTimeoutMs: 30_000,
  /** Headers alone must arrive within this, ms (Node's headersTimeout). */
  headersTimeoutMs: 10_000
})

/** The HTTPS options for `tls`; throws LAMBKIN_CONFIG_INVALID naming the flag when a file cannot be read. */
function httpsOptions (tls: { certFile: string, keyFile: string }): { cert: Buffer, key: Buffer } {
  return { cert: readPemFlag(tls.certFile, 'api-tls-cert'), key: readPemFlag(tls.keyFile, 'api-tls-key') }
}

export async function startApi (o: ApiOptions): Promise<Api> {
  const requestTimeoutMs = o.requestTimeoutMs ?? API_DEFAULTS.requestTimeoutMs
  // Node checks requestTimeout on connectionsCheckingInterval (30 s by default): a slow body is
  // cut within a second of its time instead.
  const server = { connectionsCheckingInterval: Math.min(1000, requestTimeoutMs), headersTimeout: Math.min(API_DEFAULTS.headersTimeoutMs, requestTimeoutMs) }
  let app: FastifyInstance
  try {
    // forceCloseConnections: a long-poll (logs -f) must not hold a stopping cloud for its 25 s.
    // Fastify's generic types differ for https; the instance is used the same way.
    app = Fastify({
      logger: false,
      bodyLimit: API_BODY_LIMIT,
      forceCloseConnections: true,
      requestTimeout: requestTimeoutMs,
      http: server,
      ...(o.tls === undefined ? {} : { https: { ...server, ...httpsOptions(o.tls) } }),
      frameworkErrors,
      clientErrorHandler: clientErrorHandler(requestTimeoutMs)
    } as FastifyServerOptions) as unknown as FastifyInstance
  } catch (err) {
    if (err instanceof LambkinError) throw err
    throw new LambkinError(ErrorCodes.CONFIG_INVALID, `the API's TLS certificate or key cannot be used: ${errorMessage(err)}; check --api-tls-cert and --api-tls-key (PEM files)`, { cause: err, details: { key: 'api-tls-cert' } })
  }
  let closing = false
  app.addHook('onClose', async () => { closing = true })
  const want = digest(o.token)
  app.addHook('onRequest', async (req) => {
    if (req.url === '/v1/health' || isPublicRoute(req.url)) return
    const h = req.headers.authorization ?? ''
    const given = h.startsWith('Bearer ') ? h.slice(7) : ''
    if (!timingSafeEqual(digest(given), want)) throw new LambkinError(ErrorCodes.UNAUTHORIZED, 'missing or wrong operator token: pass --token or set LAMBKIN_TOKEN (the token is in <cloud data>/operator-token)')
  })
  installErrorAnswers(app, API_BODY_LIMIT)
  // JSON bodies only: any other content type is a 415 in the error shape (error-answers.ts).
  app.removeContentTypeParser('text/plain')
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
  const takeoversNow = o.takeoversNow ?? o.now
  const viewOf = (d: DeviceRow, reported: ReportedRow | undefined): Record<string, unknown> =>
    deviceView(d, nowFor(d), o.isConnected(d.id), reported, takeoversNow())
  const view = async (d: DeviceRow): Promise<Record<string, unknown>> => viewOf(d, await o.registry.getReported(d.id))
  // In pages by id (device-pages.ts): `next` is the `after` of the page that follows.
  app.get('/v1/devices', async (req) => await readDevicePage(o.registry, devicePageParams(req.query), viewOf))
  app.post('/v1/devices', async (req, reply) => {
    const body = (req.body ?? {}) as { id?: unknown, group?: unknown }
    // The same words as the agent's own check of its id, with what was sent (a space, an umlaut...).
    const idRule = (what: string, v: unknown): string => `${what} must be 1 to 63 lower-case letters, digits, "_" or "-", starting with a letter or digit (^[a-z0-9][a-z0-9_-]{0,62}$), got ${JSON.stringify(v) ?? 'nothing'}`
    if (!isValidId(body.id)) throw bad(idRule('a device id', body.id))
    if (body.group !== undefined && body.group !== null && !isValidId(body.group)) throw bad(idRule('a group', body.group))
    const secret = newSecret()
    const group = typeof body.group === 'string' ? body.group : undefined
    const id = body.id
    await o.registry.addDevice({ id, group, secretHash: await hashPassword(secret, GENERATED_SECRET_PARAMS), createdAt: o.now() })
    await o.credentials.added(id, secret).catch((err: unknown) => {
      throw brokerLag(err, `device ${id} is registered, but the broker did not take its credentials (${errorMessage(err)}), so it cannot connect yet; lambkin devices rotate ${id} gives it a secret the broker has, once the broker answers`)
    })
    return await reply.status(201).send({ id, group: group ?? null, secret })
  })
  app.post('/v1/devices/:id/revoke', async (req) => {
    const { id } = req.params as { id: string }
    await device(id)
    const at = o.now()
    await o.registry.revokeDevice(id, at)
    await o.credentials.revoked(id).catch((err: unknown) => {
      throw brokerLag(err, `device ${id} is revoked in the registry, but the broker did not confirm (${errorMessage(err)}), so it may still connect there; run lambkin devices revoke ${id} again once the broker answers`)
    })
    return { id, revokedAt: (await device(id)).revokedAt ?? at }
  })
  registerRotateRoute(app, { registry: o.registry, now: o.now, device, credentials: o.credentials })
  registerConflictRoute(app, { registry: o.registry, device })
  app.get('/v1/status', async (req) => ({ ...await readDevicePage(o.registry, devicePageParams(req.query), viewOf), cloud: o.cloudStats() }))
  app.get('/v1/devices/:id', async (req) => await view(await device((req.params as { id: string }).id)))
  registerRecordsRoute(app, { registry: o.registry, device, kinds: kindsParam, maxWaitMs: o.maxWaitMs ?? 30_000, closing: () => closing, watch: o.watchStores })
  app.get('/v1/devices/:id/metrics', async (req) => {
    const { id } = req.params as { id: string }
    const d = await device(id)
    const q = req.query as Record<string, unknown>
    const fn = q.fn === undefined || q.fn === '' ? undefined : String(q.fn)
    const records = await o.registry.records(id, { kinds: ['metric'], limit: 10_000 })
    const functions = summarizeMetrics(records.map(recordView), fn)
    // A name in no snapshot that the device never had either is a typo to show, not an empty
    // table (as results answers it).
    const unknown = fn === undefined || Object.hasOwn(functions, fn) ? undefined : await unknownFunction(o.registry, d, fn)
    if (unknown !== undefined) throw unknown
    // How often the device writes a snapshot (its status says; null before it said), so a view
    // with none yet can say when the first comes.
    return {
      device: id,
      snapshots: records.length,
      functions,
      metricsSnapshotMs: d.status?.metricsSnapshotMs ?? null,
      state: deviceState(d, nowFor(d), o.isConnected(id))
    }
  })

  registerDashboardRoutes(app, { registry: o.registry, token: o.token, now: o.now, takeoversNow, isConnected: o.isConnected, wake: o.feedWake })
  if (o.deploy !== undefined) registerDeployRoutes(app, o.deploy, { device, maxWaitMs: o.maxWaitMs ?? 30_000, closing: () => closing })

  try {
    await app.listen({ host: o.host, port: o.port })
  } catch (err) {
    throw new LambkinError(ErrorCodes.CONFIG_INVALID, `the operator API cannot listen on ${o.host}:${o.port} (${(err as { code?: string }).code ?? errorMessage(err)}); choose another --api-port`, { cause: err, details: { key: 'api-port' } })
  }
  const addr = app.server.address() as { port: number }
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host
  return { port: addr.port, url: `${o.tls === undefined ? 'http' : 'https'}://${hostForUrl}:${addr.port}`, close: async () => { await app.close() } }
}

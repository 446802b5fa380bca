// The fleet dashboard's routes on the operator API (docs/dashboard.md): the page's static
// files, GET /v1/fleet (summary, a page of the devices' rows, the newest rollouts), the live event
// stream, and a device's series and deployment history. Everything but the static files sits
// behind the operator token; all of it reads the registry through its interface only.
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { systemClock } from '../../src/clock.js'
import type { Clock } from '../../src/clock.js'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { isValidId } from '../../src/ids.js'
import type { Registry } from '../registry/index.js'
import { SERIES_DEFAULT, SERIES_MAX, deviceDeployments, deviceSeries } from './device-history.js'
import { registerEventRoutes } from './events.js'
import { FleetFeed } from './fleet-feed.js'
import type { FeedWake } from './fleet-feed.js'
import { intParam } from './params.js'
import { devicePageParams } from './device-pages.js'
import { isStaticPath, loadSite, registerStaticRoutes } from './static-files.js'

export interface DashboardOptions {
  registry: Registry
  token: string
  now: () => number
  /** The time device takeovers are counted against (broker/takeovers.ts, Takeovers.now); default `now`. */
  takeoversNow?: () => number
  isConnected: (id: string) => boolean
  /** Timers of the fleet feed (tests pass a FakeClock); its now() is replaced by `now`. */
  clock?: Clock
  /** Where the built page is (default: dist/cloud-sync/web). */
  webDir?: string
  /** Notes from every cloud instance that wake the fleet feed (api/fleet-feed.ts). */
  wake?: FeedWake
}

/** JSON answers above this are gzipped for a client that takes it (a 10,000-device fleet is ~3 MB raw). */
const GZIP_ABOVE_BYTES = 16 * 1024
const gzipAsync = promisify(gzip)

/** Routes that check no operator token: the page's own files, and the event stream (which checks its ticket). */
export function isPublicRoute (url: string): boolean {
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  return isStaticPath(path) || path === '/v1/events'
}

async function sendJson (req: FastifyRequest, reply: FastifyReply, value: unknown): Promise<FastifyReply> {
  const body = Buffer.from(JSON.stringify(value))
  void reply.type('application/json; charset=utf-8').header('cache-control', 'no-store').header('vary', 'accept-encoding')
  if (body.length < GZIP_ABOVE_BYTES || !/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return await reply.send(body)
  return await reply.header('content-encoding', 'gzip').send(await gzipAsync(body, { level: 5 }))
}

export function registerDashboardRoutes (app: FastifyInstance, o: DashboardOptions): void {
  const clock: Clock = { ...(o.clock ?? systemClock), now: o.now }
  const feed = new FleetFeed({ registry: o.registry, isConnected: o.isConnected, clock, wake: o.wake, takeoversNow: o.takeoversNow })
  app.addHook('onClose', async () => { feed.close() })
  const device = async (id: string): Promise<void> => {
    if (!isValidId(id) || (await o.registry.getDevice(id)) === undefined) throw new LambkinError(ErrorCodes.DEVICE_NOT_FOUND, `no device ${id}; see lambkin devices`)
  }

  registerStaticRoutes(app, loadSite(o.webDir))
  registerEventRoutes(app, { feed, token: o.token, clock })
  // In pages as /v1/devices (device-pages.ts): the page loads the first and shows it while it reads the rest.
  app.get('/v1/fleet', async (req, reply) => await sendJson(req, reply, await feed.page(devicePageParams(req.query))))
  app.get('/v1/devices/:id/series', async (req, reply) => {
    const { id } = req.params as { id: string }
    await device(id)
    const limit = intParam((req.query as Record<string, unknown>).limit, 'limit', 1, SERIES_MAX) ?? SERIES_DEFAULT
    return await sendJson(req, reply, await deviceSeries(o.registry, id, limit))
  })
  app.get('/v1/devices/:id/deployments', async (req) => {
    const { id } = req.params as { id: string }
    await device(id)
    return await deviceDeployments(o.registry, id)
  })
}

// GET /v1/events: the fleet's changes as server-sent events, for the dashboard's live view.
// A browser's EventSource cannot send the Authorization header, and the operator token must
// never sit in a URL (URLs land in proxy and browser logs), so the page first trades its token
// for a ticket (POST /v1/events/ticket): random, good for one connect within TICKET_TTL_MS.
// A client that can send headers (curl -N) may use the bearer token instead.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Clock } from '../../src/clock.js'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import type { FleetFeed } from './fleet-feed.js'

/** How long a ticket may wait for its connect, ms. */
export const TICKET_TTL_MS = 30_000
/** Tickets outstanding at once; the oldest goes when a new one would pass this. */
const MAX_TICKETS = 1000
/** A comment line this often keeps proxies from closing an idle stream, ms. */
const PING_MS = 15_000
/** A client this far behind (bytes queued) is cut off; it reconnects and reloads the fleet. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

export class EventTickets {
  readonly #clock: Pick<Clock, 'now'>
  /** Ticket digest (hex) -> when it expires; Map keeps issue order for eviction. */
  readonly #open = new Map<string, number>()

  constructor (clock: Pick<Clock, 'now'>) {
    this.#clock = clock
  }

  issue (): { ticket: string, expiresInMs: number } {
    const ticket = randomBytes(32).toString('base64url')
    const now = this.#clock.now()
    for (const [k, exp] of this.#open) if (exp <= now || this.#open.size >= MAX_TICKETS) this.#open.delete(k)
    this.#open.set(digest(ticket).toString('hex'), now + TICKET_TTL_MS)
    return { ticket, expiresInMs: TICKET_TTL_MS }
  }

  /** True once for a ticket issued less than TICKET_TTL_MS ago; it is spent either way. */
  take (ticket: unknown): boolean {
    if (typeof ticket !== 'string' || ticket.length === 0 || ticket.length > 100) return false
    const key = digest(ticket).toString('hex')
    const exp = this.#open.get(key)
    this.#open.delete(key)
    return exp !== undefined && exp > this.#clock.now()
  }
}

function bearerMatches (req: FastifyRequest, token: string): boolean {
  const h = req.headers.authorization ?? ''
  return h.startsWith('Bearer ') && timingSafeEqual(digest(h.slice(7)), digest(token))
}

export interface EventsOptions { feed: FleetFeed, token: string, clock: Pick<Clock, 'now'> }

export function registerEventRoutes (app: FastifyInstance, o: EventsOptions): void {
  const tickets = new EventTickets(o.clock)
  const streams = new Set<() => void>()
  app.addHook('preClose', async () => { for (const end of [...streams]) end() })

  // Behind the operator token like every route (server.ts checks it before this runs).
  app.post('/v1/events/ticket', async () => tickets.issue())

  app.get('/v1/events', async (req, reply) => {
    const ticket = (req.query as Record<string, unknown>).ticket
    if (!tickets.take(ticket) && !bearerMatches(req, o.token)) {
      throw new LambkinError(ErrorCodes.UNAUTHORIZED, ticket === undefined
        ? 'missing or wrong operator token: the event stream takes the bearer token or a ticket (POST /v1/events/ticket, then GET /v1/events?ticket=<it>)'
        : `this event ticket is spent, expired or unknown: each works for one connect within ${TICKET_TTL_MS / 1000} s; ask POST /v1/events/ticket for a new one`)
    }
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', 'x-content-type-options': 'nosniff' })
    let ended = false
    let off = (): void => {}
    let ping: ReturnType<typeof setInterval> | undefined
    const end = (): void => {
      if (ended) return
      ended = true
      off()
      clearInterval(ping)
      streams.delete(end)
      res.end()
    }
    const send = (event: string, data: unknown): void => {
      if (ended) return
      if (res.writableLength > MAX_QUEUED_BYTES) { end(); return }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    }
    send('hello', { now: o.clock.now() })
    if (ended) return
    // A failed refresh (the database down) ends the stream after a `fault` event saying why
    // ({ code, message }), so the page shows it and reconnects instead of showing stale rows as live.
    off = o.feed.subscribe((change) => send('fleet', change), (err) => {
      send('fault', { code: (err as { code?: string }).code ?? ErrorCodes.INTERNAL, message: errorMessage(err) })
      end()
    })
    ping = setInterval(() => { if (!ended) res.write(': ping\n\n') }, PING_MS)
    ping.unref()
    streams.add(end)
    req.raw.on('close', end)
    res.on('error', end)
  })
}

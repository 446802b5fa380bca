// A cap on the size of each MQTT packet a client sends to an aedes broker (the agent's embedded
// one and the cloud's). aedes (1.2) and
// mqtt-packet (9) have none: the parser buffers a packet's whole Remaining Length before it
// looks at it, so one 100 MB PUBLISH took the agent to 776 MiB and was then acknowledged. This
// is the one place that reaches into their internals: it wraps the parser's `_parseLength`
// step of each connection, which runs as soon as the fixed header (MQTT 3.1.1 section 2.2) is
// in, so an oversized packet is refused after at most one socket read, before its payload.
// It also wraps `_parseSubscribe`, so a SUBSCRIBE carrying more topic filters than a client may
// ever hold is refused whole before aedes authorizes, answers and stores each filter.
import { PassThrough } from 'node:stream'
import { ErrorCodes, LambkinError } from '../errors.js'

/** The parts of an aedes broker and client this file touches (typed here, not imported, so the
 * core does not depend on aedes; device/links/broker/index.ts and cloud-sync/broker pass theirs). */
export interface BrokerLike { handle: (stream: PassThrough) => unknown }
export interface ClientLike { conn: { destroy: () => void } }

/** The members of mqtt-packet's Parser this file relies on. */
interface ParserInternals {
  packet: { length: number }
  _parseLength: () => boolean
  _parseSubscribe: () => unknown
  _emitError: (err: Error) => void
  error: Error | null | undefined
}

function hasInternals (p: unknown): p is ParserInternals {
  const q = p as Partial<ParserInternals> | null
  return typeof q?._parseLength === 'function' && typeof q._parseSubscribe === 'function' && typeof q._emitError === 'function' && typeof q.packet?.length === 'number'
}

/**
 * Throws LAMBKIN_CONFIG_INVALID naming broker.maxPacketBytes when the installed mqtt-packet no
 * longer has the parser steps this file wraps, so an upgrade that moved them stops the broker
 * from starting instead of silently dropping the cap.
 */
export function checkParserShape (broker: BrokerLike, key = 'broker.maxPacketBytes'): void {
  // A client on a stream that never carries data: only its parser is looked at.
  const probe = broker.handle(new PassThrough())
  const ok = hasInternals((probe as unknown as { _parser?: unknown })._parser)
  ;(probe as unknown as { close: () => void }).close()
  if (!ok) {
    throw new LambkinError(ErrorCodes.DEPENDENCY_MISMATCH, 'the installed mqtt-packet parser has no _parseLength/_parseSubscribe/_emitError step, so broker.maxPacketBytes cannot be enforced; install the aedes and mqtt-packet versions package-lock.json pins', { details: { key } })
  }
}

/** Bytes of the fixed header for a Remaining Length (one type byte, 1 to 4 length bytes). */
function headerBytes (remaining: number): number {
  return 1 + (remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4)
}

/**
 * `client`'s parser; undefined after closing its connection when it has not the steps wrapped
 * here (checkParserShape ran at start; a client without them cannot read packets either).
 */
function parserOf (client: ClientLike): ParserInternals | undefined {
  const parser = (client as unknown as { _parser?: unknown })._parser
  if (hasInternals(parser)) return parser
  client.conn.destroy()
  return undefined
}

/**
 * Makes `client`'s parser refuse any packet whose total size (fixed header included, as in
 * MQTT 5 section 3.1.2.11.4 "Maximum Packet Size") exceeds `maxBytes`: the parser errors,
 * aedes closes the connection (MQTT 3.1.1 has no reason code to send; aedes speaks only 3.1.1,
 * so the MQTT 5 DISCONNECT 0x95 does not apply) and nothing of the packet is processed.
 */
export function limitPacketSize (client: ClientLike, maxBytes: number, onTooLarge: (bytes: number) => void): void {
  const parser = parserOf(client)
  if (parser === undefined) return
  const parseLength = parser._parseLength
  parser._parseLength = function (this: ParserInternals): boolean {
    const done = parseLength.call(this)
    if (done) {
      const total = this.packet.length + headerBytes(this.packet.length)
      if (total > maxBytes) {
        onTooLarge(total)
        this._emitError(new LambkinError(ErrorCodes.INPUT_LIMIT, `MQTT packet of ${total} bytes is over the broker's packet size limit (${maxBytes})`, { details: { bytes: total, maxBytes } }))
        return false
      }
    }
    return done
  }
}

/**
 * Makes `client`'s parser refuse a SUBSCRIBE with more than `maxFilters` topic filters: the
 * parser errors once the packet is parsed, before it is handed on, so aedes closes the
 * connection (MQTT 3.1.1 section 3.8.4 leaves a server the choice between a 0x80 return code
 * per filter and closing; aedes speaks 3.1.1 only, so MQTT 5's SUBACK reason codes do not
 * apply) and runs no hook, SUBACK or session write for any of its filters. aedes answered a
 * 5,000-filter packet filter by filter: 43-189 ms of the shared event loop per packet, against
 * 8-51 ms refused (parsing it), in interleaved runs on a shared 2-core host
 * (bench/cloud/subscribe-flood.ts). `onTooMany` gets the packet's filter count.
 */
export function limitSubscribeFilters (client: ClientLike, maxFilters: number, onTooMany: (filters: number) => void): void {
  const parser = parserOf(client)
  if (parser === undefined) return
  const parseSubscribe = parser._parseSubscribe
  parser._parseSubscribe = function (this: ParserInternals & { packet: { subscriptions?: unknown[] } }): unknown {
    const r = parseSubscribe.call(this)
    const n = this.packet.subscriptions?.length ?? 0
    if ((this.error ?? null) === null && n > maxFilters) {
      onTooMany(n)
      this._emitError(new LambkinError(ErrorCodes.INPUT_LIMIT, `SUBSCRIBE with ${n} topic filters is over the broker's limit (${maxFilters})`, { details: { filters: n, maxFilters } }))
    }
    return r
  }
}

// Half-open device connections [W3]: a board whose link died without a FIN (power cut, a NAT
// or a relay that forgot it) leaves its TCP connection open on the cloud's side, so it would
// show as connected and be sent invokes that go nowhere. aedes closes a client after 1.5x the
// keepalive the client asked for, but a client may ask for none (0) or up to 18 hours. This
// closes every device connection from which no byte arrived for 1.5x `keepaliveMaxSec`
// (MQTT 3.1.1 section 3.1.2.10's grace), whatever keepalive it asked for, by reading the
// socket's own byte count: nothing of aedes is touched. An agent's heartbeats and pings keep
// its connection well inside this (cloud.heartbeatMs, cloud.keepaliveSec).
import type { Socket } from 'node:net'
import { ageClock } from '../../src/clock.js'
import type { Clock } from '../../src/clock.js'

export const SILENCE_DEFAULTS = Object.freeze({
  /** The longest a device may stay silent, s, before 1.5x that closes its connection. */
  keepaliveMaxSec: 60
})

interface Watched { bytes: number, activeAt: number }

export class SilenceWatch {
  readonly #sockets = new Map<Socket, Watched>()
  readonly #clock: Clock
  /**
   * Silence is an interval: measured on the clock that never jumps, so a step of the cloud's
   * wall clock neither keeps a half-open connection for hours nor closes one that spoke a
   * second ago.
   */
  readonly #elapsed: () => number
  readonly #silentMs: number
  readonly #onSilent: (socket: Socket, silentMs: number) => void
  #timer: unknown
  #closed = false
  /** Connections closed for silence since start. */
  closed = 0

  constructor (o: { keepaliveMaxSec: number, clock: Clock, onSilent: (socket: Socket, silentMs: number) => void }) {
    this.#clock = o.clock
    this.#elapsed = ageClock(o.clock).monotonic
    this.#silentMs = Math.ceil(o.keepaliveMaxSec * 1500)
    this.#onSilent = o.onSilent
  }

  /** Watches one connection until it closes. */
  watch (socket: Socket): void {
    if (this.#closed) return
    this.#sockets.set(socket, { bytes: socket.bytesRead, activeAt: this.#elapsed() })
    socket.once('close', () => { this.#sockets.delete(socket) })
    this.#arm()
  }

  /** Sweeps four times per silence window: a connection goes at most a quarter window after its silence does. */
  #arm (): void {
    if (this.#timer !== undefined || this.#closed) return
    this.#timer = this.#clock.setTimeout(() => { this.#timer = undefined; this.#sweep() }, this.#silentMs / 4)
  }

  #sweep (): void {
    const now = this.#elapsed()
    for (const [socket, w] of this.#sockets) {
      if (socket.bytesRead !== w.bytes) { w.bytes = socket.bytesRead; w.activeAt = now; continue }
      if (now - w.activeAt < this.#silentMs) continue
      this.#sockets.delete(socket)
      this.closed++
      this.#onSilent(socket, now - w.activeAt)
      socket.destroy()
    }
    if (this.#sockets.size > 0) this.#arm()
  }

  close (): void {
    this.#closed = true
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#sockets.clear()
  }
}

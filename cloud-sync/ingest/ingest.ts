// What the cloud does with each device publish [W2]-[W4][W8]: batches are deduped and stored,
// then acknowledged on down/ack with the high-water mark; status and heartbeats update the
// registry. A frame that breaks a wire rule is counted and dropped; it never throws past here
// and never touches other data. Only a registry failure rejects, which leaves the device's
// publish unacknowledged so it is sent again.
import { ErrorCodes } from '../../src/errors.js'
import { BATCH_LIMITS, decodeFrame, downTopic, encodeFrame, parseBatch, parseDeviceTopic, parseHeartbeat, parseStatus } from '../../src/wire/index.js'
import type { Registry } from '../registry/index.js'

export interface IngestOptions {
  registry: Registry
  /** Sends a frame to a device (down/ack); resolves once the broker has taken it. */
  send: (topic: string, payload: Buffer) => Promise<void>
  now: () => number
  log: (line: string) => void
}

/** Counters of what ingest did since start (the operator API shows them). */
export interface IngestCounters {
  batches: number
  recordsStored: number
  duplicates: number
  gaps: number
  /** Frames refused by reason ('malformed', 'version', 'field', 'not-contiguous', 'too-large', 'unknown-kind', ...). */
  rejected: Record<string, number>
}

/** Small frames (status, heartbeat) are far below this; batches have their own cap. */
const SMALL_FRAME_BYTES = 64 * 1024
/** Room for CBOR framing around a batch's BATCH_LIMITS.maxBytes of records. */
const BATCH_FRAME_BYTES = BATCH_LIMITS.maxBytes + 64 * 1024

export class Ingest {
  readonly counters: IngestCounters = { batches: 0, recordsStored: 0, duplicates: 0, gaps: 0, rejected: {} }
  readonly #o: IngestOptions
  readonly #logged = new Map<string, number>()

  constructor (opts: IngestOptions) {
    this.#o = opts
  }

  /** Handles one publish a device made under its own up/ tree (the broker's ACL checked that). */
  async onUp (deviceId: string, topic: string, payload: Buffer): Promise<void> {
    const t = parseDeviceTopic(topic)
    if (t === undefined || t.deviceId !== deviceId || t.direction !== 'up') { this.#reject(deviceId, 'topic', topic); return }
    let frame: Record<string, unknown>
    try {
      frame = decodeFrame(payload, t.kind === 'batch' ? BATCH_FRAME_BYTES : SMALL_FRAME_BYTES)
      switch (t.kind) {
        case 'batch': await this.#batch(deviceId, frame, payload); return
        case 'status': await this.#o.registry.touch(deviceId, { lastSeen: this.#o.now(), status: parseStatus(frame) }); return
        case 'heartbeat': await this.#o.registry.touch(deviceId, { lastSeen: this.#o.now(), heartbeat: parseHeartbeat(frame) }); return
        default: this.#reject(deviceId, 'unknown-kind', topic)
      }
    } catch (err) {
      if ((err as { code?: string }).code !== ErrorCodes.WIRE_INVALID) throw err
      this.#reject(deviceId, String((err as { info?: { reason?: string } }).info?.reason ?? 'invalid'), `${topic}: ${(err as Error).message}`)
      // A refused batch is still answered, so the device learns where the cloud stands.
      if (t.kind === 'batch') await this.#ack(deviceId, undefined, String((err as { info?: { reason?: string } }).info?.reason))
    }
  }

  async #batch (deviceId: string, frame: Record<string, unknown>, payload: Buffer): Promise<void> {
    const b = parseBatch(frame)
    const r = await this.#o.registry.ingest(deviceId, b.records, b.gaps, this.#o.now(), b.sorted ? payload : undefined)
    this.counters.batches++
    this.counters.recordsStored += r.stored
    this.counters.duplicates += r.duplicates
    this.counters.gaps += r.gaps
    await this.#ack(deviceId, r.highWater)
  }

  /** [W4] down/ack carries the highest seq stored contiguously (and why a batch was refused). */
  async #ack (deviceId: string, highWater: number | undefined, rejected?: string): Promise<void> {
    const seq = highWater ?? (await this.#o.registry.getDevice(deviceId))?.highWater ?? 0
    const frame: Record<string, unknown> = { seq }
    if (rejected !== undefined) frame.rejected = rejected
    await this.#o.send(downTopic(deviceId, 'ack'), encodeFrame(frame))
  }

  #reject (deviceId: string, reason: string, what: string): void {
    this.counters.rejected[reason] = (this.counters.rejected[reason] ?? 0) + 1
    // One line per device and reason a minute: a device stuck on a bad frame must not flood the log.
    const key = `${deviceId} ${reason}`
    const now = this.#o.now()
    if ((this.#logged.get(key) ?? -Infinity) + 60_000 > now) return
    this.#logged.set(key, now)
    this.#o.log(`device ${deviceId}: refused ${what.slice(0, 300)} (${reason}) [W8]`)
  }
}

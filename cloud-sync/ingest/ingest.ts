// What the cloud does with each device publish [W2]-[W8]: batches are deduped and stored,
// then acknowledged on down/ack with the high-water mark; status and heartbeats update the
// registry; reported state is stored and handed to the rollout engine [W5]; a bundle fetch is
// answered on down/bundle, only for a sha256 in that device's desired state [W6]; an invoke
// result goes to the request waiting for it [W7]. A frame that breaks a wire rule is counted and dropped; it never throws past here
// and never touches other data. Only a registry failure rejects, which leaves the device's
// publish unacknowledged so it is sent again.
import { ErrorCodes } from '../../src/errors.js'
import { BATCH_LIMITS, decodeFrame, downTopic, encodeFrame, parseBatch, parseDeviceTopic, parseFetch, parseHeartbeat, parseInvokeResult, parseReported, parseStatus } from '../../src/wire/index.js'
import type { FetchFrame, InvokeResultFrame, ReportedFrame } from '../../src/wire/index.js'
import type { Registry } from '../registry/index.js'

export interface IngestOptions {
  registry: Registry
  /** Sends a frame to a device (down/ack); resolves once the broker has taken it. */
  send: (topic: string, payload: Buffer) => Promise<void>
  now: () => number
  log: (line: string) => void
  /** Where reported state and invoke results go once checked (the rollout engine, remote invoke). */
  deploy?: DeployHooks
}

export interface DeployHooks {
  onReported: (deviceId: string, r: ReportedFrame) => Promise<void>
  onInvokeResult: (deviceId: string, r: InvokeResultFrame) => void
}

/** Counters of what ingest did since start (the operator API shows them). */
export interface IngestCounters {
  batches: number
  recordsStored: number
  duplicates: number
  gaps: number
  /** Frames refused by reason ('malformed', 'version', 'field', 'not-contiguous', 'too-large', 'unknown-kind', ...). */
  rejected: Record<string, number>
  /** [W5]-[W7]: reports taken, bundles sent (and their bytes), fetches refused, invoke results taken. */
  deploy: { reports: number, bundlesSent: number, bundleBytesSent: number, fetchesRefused: number, invokeResults: number }
}

/** Small frames (status, heartbeat) are far below this; batches have their own cap. */
const SMALL_FRAME_BYTES = 64 * 1024
/** Room for CBOR framing around a batch's BATCH_LIMITS.maxBytes of records. */
const BATCH_FRAME_BYTES = BATCH_LIMITS.maxBytes + 64 * 1024
/** A report lists up to 1000 functions and 40 history entries [W5]; an invoke result carries a function's output. */
const REPORTED_FRAME_BYTES = 256 * 1024
const FRAME_BYTES: Record<string, number> = { batch: BATCH_FRAME_BYTES, reported: REPORTED_FRAME_BYTES, 'invoke-result': BATCH_FRAME_BYTES }

export class Ingest {
  readonly counters: IngestCounters = { batches: 0, recordsStored: 0, duplicates: 0, gaps: 0, rejected: {}, deploy: { reports: 0, bundlesSent: 0, bundleBytesSent: 0, fetchesRefused: 0, invokeResults: 0 } }
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
      frame = decodeFrame(payload, FRAME_BYTES[t.kind] ?? SMALL_FRAME_BYTES)
      switch (t.kind) {
        case 'batch': await this.#batch(deviceId, frame, payload); return
        case 'status': await this.#o.registry.touch(deviceId, { lastSeen: this.#o.now(), status: parseStatus(frame) }); return
        case 'heartbeat': await this.#o.registry.touch(deviceId, { lastSeen: this.#o.now(), heartbeat: parseHeartbeat(frame) }); return
        case 'reported': await this.#reported(deviceId, parseReported(frame)); return
        case 'fetch': await this.#fetch(deviceId, parseFetch(frame)); return
        case 'invoke-result': this.counters.deploy.invokeResults++; this.#o.deploy?.onInvokeResult(deviceId, parseInvokeResult(frame)); return
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

  async #reported (deviceId: string, r: ReportedFrame): Promise<void> {
    await this.#o.registry.putReported(deviceId, { ...r, receivedAt: this.#o.now() })
    this.counters.deploy.reports++
    await this.#o.deploy?.onReported(deviceId, r)
  }

  /**
   * [W6] Bytes only for a sha256 the device's desired state names (live or canary); any other
   * gets the same error whether the cloud has it or not, so a device cannot probe for bundles.
   */
  async #fetch (deviceId: string, f: FetchFrame): Promise<void> {
    const desired = await this.#o.registry.getDesired(deviceId)
    const named = Object.values(desired?.functions ?? {}).some((s) => s.current?.live.sha256 === f.sha256 || s.current?.canary?.sha256 === f.sha256)
    const bytes = named ? await this.#o.registry.bundleBytes(f.sha256) : undefined
    const topic = downTopic(deviceId, 'bundle')
    if (bytes === undefined) {
      this.counters.deploy.fetchesRefused++
      await this.#o.send(topic, encodeFrame({ sha256: f.sha256, error: { code: ErrorCodes.BUNDLE_INVALID, message: `bundle ${f.sha256.slice(0, 12)} is not in this device's desired state` } }))
      return
    }
    this.counters.deploy.bundlesSent++
    this.counters.deploy.bundleBytesSent += bytes.byteLength
    await this.#o.send(topic, encodeFrame({ sha256: f.sha256, bundle: bytes }))
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

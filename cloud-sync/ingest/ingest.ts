// What the cloud does with each device publish [W2]-[W8]: batches are deduped by (stream, seq)
// and stored, then acknowledged on down/ack with the stream's high-water mark, echoing the
// stream and batch id (a seq sent again with other bytes is refused as a conflict); status
// and heartbeats update the registry; reported state is stored and handed to the rollout engine [W5]; a bundle fetch is
// answered on down/bundle, only for a sha256 in that device's desired state [W6]; an invoke
// result goes to the request waiting for it [W7]. A frame that breaks a wire rule is counted and dropped; it never throws past here
// and never touches other data. Only a registry failure rejects, which leaves the device's
// publish unacknowledged so it is sent again.
import { ErrorCodes, errorMessage } from '../../src/errors.js'
import { BATCH_LIMITS, decodeBatchFrame, decodeFrame, downTopic, encodeFrame, isStreamId, parseBatch, parseDeviceTopic, parseFetch, parseHeartbeat, parseInvokeResult, parseReported, parseStatus } from '../../src/wire/index.js'
import type { FetchFrame, InvokeResultFrame, ReportedFrame, StatusFrame } from '../../src/wire/index.js'
import { LEGACY_STREAM } from '../registry/index.js'
import type { IngestResult, Registry } from '../registry/index.js'

export interface IngestOptions {
  registry: Registry
  /** Sends a frame to a device (down/ack); resolves once the broker has taken it. */
  send: (topic: string, payload: Buffer) => Promise<void>
  now: () => number
  log: (line: string) => void
  /** Where reported state and invoke results go once checked (the rollout engine, remote invoke). */
  deploy?: DeployHooks
  /** Told a device's id after each commit that stored new records, to wake its followers (coord/stored-notes.ts). */
  onStored?: (deviceId: string) => void
  /**
   * With an external broker, which does not say when a connection took over another: told a
   * device's id when its `online` status comes from another boot than the `online` one stored
   * before it (docs/scale-out.md, "Weaker than the embedded broker"). The embedded broker counts
   * takeovers itself and passes none.
   */
  onTakeover?: (deviceId: string) => void
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
  /** [W4] New outbox streams of devices that had sent another (a new store: re-flashed card, data moved aside). */
  newStreams: number
  /** [W4] Batches refused because a seq came with other bytes than stored (LAMBKIN_STREAM_CONFLICT). */
  conflicts: number
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
  readonly counters: IngestCounters = {
    batches: 0,
    recordsStored: 0,
    duplicates: 0,
    gaps: 0,
    newStreams: 0,
    conflicts: 0,
    rejected: {},
    deploy: { reports: 0, bundlesSent: 0, bundleBytesSent: 0, fetchesRefused: 0, invokeResults: 0 }
  }

  readonly #o: IngestOptions
  readonly #logged = new Map<string, number>()

  constructor (opts: IngestOptions) {
    this.#o = opts
  }

  /** Handles one publish a device made under its own up/ tree (the broker's ACL checked that). */
  async onUp (deviceId: string, topic: string, payload: Buffer): Promise<void> {
    const t = parseDeviceTopic(topic)
    if (t === undefined || t.deviceId !== deviceId || t.direction !== 'up') {
      this.#reject(deviceId, 'topic', topic)
      return
    }
    let frame: Record<string, unknown> | undefined
    try {
      frame = t.kind === 'batch' ? decodeBatchFrame(payload, BATCH_FRAME_BYTES) : decodeFrame(payload, FRAME_BYTES[t.kind] ?? SMALL_FRAME_BYTES)
      switch (t.kind) {
        case 'batch':
          await this.#batch(deviceId, frame, payload)
          return
        case 'status':
          await this.#status(deviceId, parseStatus(frame))
          return
        case 'heartbeat':
          await this.#o.registry.touch(deviceId, { lastSeen: this.#o.now(), heartbeat: parseHeartbeat(frame) })
          return
        case 'reported':
          await this.#reported(deviceId, parseReported(frame))
          return
        case 'fetch':
          await this.#fetch(deviceId, parseFetch(frame))
          return
        case 'invoke-result':
          this.counters.deploy.invokeResults++
          this.#o.deploy?.onInvokeResult(deviceId, parseInvokeResult(frame))
          return
        default:
          this.#reject(deviceId, 'unknown-kind', topic)
      }
    } catch (err) {
      if ((err as { code?: string }).code !== ErrorCodes.WIRE_INVALID) throw err
      this.#reject(deviceId, String((err as { details?: { reason?: string } }).details?.reason ?? 'invalid'), `${topic}: ${errorMessage(err)}`)
      // A refused batch is still answered, so the device learns where the cloud stands; the
      // stream and batch id are echoed when the frame had readable ones.
      if (t.kind === 'batch') await this.#ack(deviceId, echoOf(frame), undefined, String((err as { details?: { reason?: string } }).details?.reason))
    }
  }

  async #status (deviceId: string, s: StatusFrame): Promise<void> {
    if (this.#o.onTakeover !== undefined && s.state === 'online' && s.boot !== undefined) {
      const before = (await this.#o.registry.getDevice(deviceId))?.status
      // No `offline` between them: the broker closed the first client's connection for the second.
      if (before?.state === 'online' && before.boot !== undefined && before.boot !== s.boot) this.#o.onTakeover(deviceId)
    }
    await this.#o.registry.touch(deviceId, { lastSeen: this.#o.now(), status: s })
  }

  async #batch (deviceId: string, frame: Record<string, unknown>, payload: Buffer): Promise<void> {
    const b = parseBatch(frame)
    const r = await this.#o.registry.ingest(
      deviceId,
      { stream: b.stream, records: b.records, gaps: b.gaps, raw: b.sorted ? payload : undefined },
      this.#o.now()
    )
    this.counters.batches++
    this.counters.recordsStored += r.stored
    this.counters.duplicates += r.duplicates
    this.counters.gaps += r.gaps
    if (r.stored > 0) this.#o.onStored?.(deviceId)
    if (r.newStream) await this.#newStream(deviceId, r)
    const echo = { stream: b.stream, batchId: b.batchId }
    if (r.conflict !== undefined) {
      this.counters.conflicts++
      this.#say(
        deviceId,
        'conflict',
        `device ${deviceId}: ${ErrorCodes.STREAM_CONFLICT}: a batch of outbox stream ${r.stream} sent seq ${r.conflict.seq} with other bytes than the cloud holds: two boards are using the id ${deviceId} (a cloned card?). Refused and not acknowledged; nothing is deleted on either board. Give the clone its own id (lambkin devices add <new-id>, then a new config on that board) [W4]`
      )
      await this.#ack(deviceId, echo, r.highWater, 'conflict')
      return
    }
    await this.#ack(deviceId, echo, r.highWater)
  }

  /**
   * [W4] A known device's new stream is new data (its seqs start again): counted and logged,
   * at most once a minute per device (one making streams on end is broken). A device's first
   * stream is no news.
   */
  async #newStream (deviceId: string, r: IngestResult): Promise<void> {
    const n = (await this.#o.registry.getDevice(deviceId))?.streams ?? 1
    if (n < 2) return
    this.counters.newStreams++
    this.#say(
      deviceId,
      'stream',
      `device ${deviceId}: new outbox stream ${r.stream} (its stream number ${n}): its seqs start again, from a new store (a re-flashed card, a data folder moved aside, a rebuilt store); stored as new data [W4]`
    )
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
      await this.#o.send(
        topic,
        encodeFrame({
          sha256: f.sha256,
          error: { code: ErrorCodes.BUNDLE_INVALID, message: `bundle ${f.sha256.slice(0, 12)} is not in this device's desired state` }
        })
      )
      return
    }
    this.counters.deploy.bundlesSent++
    this.counters.deploy.bundleBytesSent += bytes.byteLength
    await this.#o.send(topic, encodeFrame({ sha256: f.sha256, bundle: bytes }))
  }

  /**
   * [W4] down/ack carries the highest seq of the batch's stream stored contiguously, the
   * stream (absent for the legacy stream) and the batch id it answers, why a batch was refused,
   * and `embedded: true` (src/wire/embedded-data.ts).
   */
  async #ack (deviceId: string, echo: Echo, highWater: number | undefined, rejected?: string): Promise<void> {
    const stream = echo.stream ?? LEGACY_STREAM
    const seq = highWater ?? (await this.#o.registry.streams(deviceId)).find((s) => s.id === stream)?.highWater ?? 0
    // This cloud takes record data embedded as CBOR (tag 24), and says so in every ack [W4].
    const frame: Record<string, unknown> = { seq, embedded: true }
    if (echo.stream !== undefined) frame.stream = echo.stream
    if (echo.batchId !== undefined) frame.batchId = echo.batchId
    if (rejected !== undefined) frame.rejected = rejected
    await this.#o.send(downTopic(deviceId, 'ack'), encodeFrame(frame))
  }

  #reject (deviceId: string, reason: string, what: string): void {
    this.counters.rejected[reason] = (this.counters.rejected[reason] ?? 0) + 1
    this.#say(deviceId, reason, `device ${deviceId}: refused ${what.slice(0, 300)} (${reason}) [W8]`)
  }

  /** One line per device and subject a minute: a device stuck on a bad frame must not flood the log. */
  #say (deviceId: string, subject: string, line: string): void {
    const key = `${deviceId} ${subject}`
    const now = this.#o.now()
    if ((this.#logged.get(key) ?? -Infinity) + 60_000 > now) return
    this.#logged.set(key, now)
    this.#o.log(line)
  }
}

interface Echo { stream?: string, batchId?: number }

/** The stream and batch id of a frame that could not be taken, where readable, for its ack. */
function echoOf (frame: Record<string, unknown> | undefined): Echo {
  const echo: Echo = {}
  if (frame === undefined) return echo
  if (isStreamId(frame.stream)) echo.stream = frame.stream
  if (Number.isSafeInteger(frame.batchId) && (frame.batchId as number) >= 0) echo.batchId = frame.batchId as number
  return echo
}

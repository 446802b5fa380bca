// Remote invoke through the cloud [W7]: the API's request goes to a connected device as
// down/invoke (QoS 0: an invocation is not worth queueing for a device that is away), and the
// device's up/invoke-result with the same id answers it. Each request waits at most its
// timeout plus a margin; a device that is not connected is refused at once.
import { randomUUID } from 'node:crypto'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { DATA_MAX_DEPTH, downTopic, encodeFrame } from '../../src/wire/index.js'
import type { InvokeResultFrame } from '../../src/wire/index.js'
import type { DeviceLink } from '../rollouts/desired.js'
import type { Clock } from '../../src/clock.js'

export const INVOKE_DEFAULTS = Object.freeze({
  timeoutMs: 10_000,
  /** The device's own bound ([W7] parseInvoke clamps to 1..300 s). */
  maxTimeoutMs: 300_000,
  /** Added to the function's timeout for the round trip before the cloud gives up, ms. */
  marginMs: 2000,
  /** Requests waiting at once, fleet-wide: more are refused rather than held in memory. */
  maxPending: 10_000
})

interface Waiting { device: string, fn: string, resolve: (r: InvokeResultFrame) => void, reject: (e: Error) => void, timer: unknown }

export class RemoteInvoker {
  readonly #link: DeviceLink
  readonly #clock: Clock
  readonly #waiting = new Map<string, Waiting>()
  /** Results nobody waited for (late, after the timeout, or not this device's request). */
  unmatched = 0

  constructor (link: DeviceLink, clock: Clock) {
    this.#link = link
    this.#clock = clock
  }

  /**
   * Runs `fn` on `device` with `event` and resolves with the device's answer (ok or not).
   * @throws LambkinError LAMBKIN_DEVICE_OFFLINE when the device is not connected,
   *   LAMBKIN_INVOKE_TIMEOUT when no answer comes within timeoutMs + marginMs,
   *   LAMBKIN_REQUEST_INVALID for a timeout out of range or too many requests waiting.
   */
  async invoke (device: string, fn: string, event: unknown, timeoutMs: number = INVOKE_DEFAULTS.timeoutMs): Promise<InvokeResultFrame> {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > INVOKE_DEFAULTS.maxTimeoutMs) throw new LambkinError(ErrorCodes.REQUEST_INVALID, `timeoutMs must be an integer from 1 to ${INVOKE_DEFAULTS.maxTimeoutMs}`)
    if (!this.#link.isConnected(device)) throw new LambkinError(ErrorCodes.DEVICE_OFFLINE, `device ${device} is not connected to the cloud; remote invoke needs it online (lambkin status)`)
    if (this.#waiting.size >= INVOKE_DEFAULTS.maxPending) throw new LambkinError(ErrorCodes.REQUEST_INVALID, `${this.#waiting.size} remote invocations are already waiting; try again shortly`)
    const id = randomUUID()
    // Encoded before anything waits: an event CBOR cannot carry is the caller's to fix, not an offline device.
    let frame: Buffer
    try {
      frame = encodeFrame({ id, fn, event, timeoutMs })
    } catch (err) {
      throw new LambkinError(ErrorCodes.REQUEST_INVALID, `the event cannot be sent to a device (${errorMessage(err)}); send plain JSON nested at most ${DATA_MAX_DEPTH} levels`, { cause: err })
    }
    const answer = new Promise<InvokeResultFrame>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#waiting.delete(id)
        reject(new LambkinError(ErrorCodes.INVOKE_TIMEOUT, `device ${device} did not answer the invocation of ${fn} within ${timeoutMs + INVOKE_DEFAULTS.marginMs} ms`))
      }, timeoutMs + INVOKE_DEFAULTS.marginMs)
      this.#waiting.set(id, { device, fn, resolve, reject, timer })
    })
    try {
      await this.#link.publish(downTopic(device, 'invoke'), frame, { qos: 0, retain: false })
    } catch (err) {
      this.#settle(id)?.reject(new LambkinError(ErrorCodes.DEVICE_OFFLINE, `the invocation could not be sent to ${device}: ${errorMessage(err)}`, { cause: err }))
    }
    return await answer
  }

  /** An up/invoke-result from `device` [W7]; one that answers nothing waiting is counted and dropped. */
  onResult (device: string, r: InvokeResultFrame): void {
    if (!this.take(device, r)) this.unmatched++
  }

  /** Whether request `id` to `device` waits on this instance. */
  waits (device: string, id: string): boolean {
    return this.#waiting.get(id)?.device === device
  }

  /** Answers the request waiting here for `r`; false (nothing counted) when none does, e.g. it waits on another cloud instance. */
  take (device: string, r: InvokeResultFrame): boolean {
    const w = this.#waiting.get(r.id)
    if (w === undefined || w.device !== device) return false
    this.#settle(r.id)?.resolve(r)
    return true
  }

  #settle (id: string): Waiting | undefined {
    const w = this.#waiting.get(id)
    if (w === undefined) return undefined
    this.#waiting.delete(id)
    this.#clock.clearTimeout(w.timer)
    return w
  }

  /** Refuses everything still waiting (the cloud is stopping). */
  close (): void {
    for (const id of [...this.#waiting.keys()]) this.#settle(id)?.reject(new LambkinError(ErrorCodes.CLOSED, 'the cloud is stopping'))
  }
}

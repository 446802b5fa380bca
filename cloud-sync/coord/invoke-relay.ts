// Remote-invoke answers between cloud instances (docs/scale-out.md, "Several instances"): the
// broker gives a device's up/invoke-result [W7] to any instance, and the request waits on one.
// An answer this instance does not wait for goes on the bus: in the note itself when it fits
// (BUS_MAX_PAYLOAD), else as a parcel the waiting instance claims, so an answer up to a
// function's result cap (1 MiB, docs/functions.md) crosses as well as a small one.
import type { InvokeResultFrame } from '../../src/wire/index.js'
import type { RemoteInvoker } from '../invoke/remote-invoke.js'
import { BUS_MAX_PAYLOAD } from './bus.js'
import type { CloudBus, ParcelPost } from './bus.js'

/** The `invoke` note: the answer itself, or the request it answers and the parcel holding it. */
type InvokeNote = { device: string, result: InvokeResultFrame } | { device: string, id: string, parcel: string }

export class InvokeRelay {
  readonly #invoker: RemoteInvoker
  readonly #bus: (CloudBus & ParcelPost) | undefined
  /** Answers this instance took for a request waiting on another and handed on through the bus. */
  relayed = 0

  /** `bus` undefined: one process (the embedded cloud), so an answer nobody here waits for is unmatched. */
  constructor (invoker: RemoteInvoker, bus: (CloudBus & ParcelPost) | undefined) {
    this.#invoker = invoker
    this.#bus = bus
  }

  /** Listens for answers other instances took; returns the undo. */
  start (): () => void {
    return this.#bus?.subscribe('invoke', (p) => { void this.#onNote(p) }) ?? (() => {})
  }

  /** An up/invoke-result this instance took: answered here, else handed on; counted unmatched when it cannot be. */
  onResult (device: string, r: InvokeResultFrame): void {
    if (this.#invoker.take(device, r)) return
    const bus = this.#bus
    if (bus === undefined) { this.#invoker.unmatched++; return }
    const inline = JSON.stringify({ device, result: r } satisfies InvokeNote)
    if (Buffer.byteLength(inline) <= BUS_MAX_PAYLOAD) {
      if (bus.publish('invoke', inline)) this.relayed++
      else this.#invoker.unmatched++
      return
    }
    void bus.sendParcel('invoke', JSON.stringify(r), (parcel) => JSON.stringify({ device, id: r.id, parcel } satisfies InvokeNote))
      .then((sent) => { if (sent) this.relayed++; else this.#invoker.unmatched++ })
  }

  async #onNote (p: string): Promise<void> {
    let note: Partial<Record<'device' | 'id' | 'parcel', unknown>> & { result?: InvokeResultFrame }
    try {
      note = JSON.parse(p)
    } catch { return /* not ours to fix */ }
    if (typeof note.device !== 'string') return
    if (note.result !== undefined) { this.#invoker.take(note.device, note.result); return }
    // Only the instance holding the request reads the parcel: the others leave it alone.
    if (typeof note.id !== 'string' || typeof note.parcel !== 'string' || !this.#invoker.waits(note.device, note.id)) return
    const body = await this.#bus?.claimParcel(note.parcel)
    if (body === undefined) return
    try {
      this.#invoker.take(note.device, JSON.parse(body) as InvokeResultFrame)
    } catch { /* a parcel that is not JSON answers nothing; the request times out */ }
  }
}

// What cloud instances tell each other (docs/scale-out.md, "Several instances"): small notes,
// ids only, never rows; a reader fetches what it needs from the registry. The embedded cloud is
// one process, so its bus is an EventEmitter; instances sharing PostgreSQL use NOTIFY/LISTEN
// (pg-coordinator.ts). Delivery is best effort: a note lost while the database is away is made
// up for by the readers' own polling and by the next rollout leader loading every open rollout.
import { EventEmitter } from 'node:events'

/**
 * The notes and their payloads: `rollout` a rollout id whose stored row changed (or was created
 * by an instance not driving rollouts); `cancel` a rollout id to cancel; `reported` and `connect`
 * a device id whose report was stored / which connected; `invoke` a remote-invoke answer as
 * JSON `{ device, result }` for the instance whose request waits for it, or, too large for a
 * note, `{ device, id, parcel }` naming the request and the parcel holding it (invoke-relay.ts);
 * `stored` the ids of devices whose records an instance stored, space-separated (stored-notes.ts).
 */
export type BusTopic = 'rollout' | 'cancel' | 'reported' | 'connect' | 'invoke' | 'stored'

/** The most bytes a payload may have (PostgreSQL's NOTIFY takes under 8000); larger bodies go as parcels. */
export const BUS_MAX_PAYLOAD = 7000

/**
 * What is too large for a note, between instances sharing PostgreSQL (coord/pg-coordinator.ts,
 * table bus_parcels): stored once under a fresh key, announced by a note that names the key, and
 * claimed (read and deleted) by the one instance it is for.
 */
export interface ParcelPost {
  /**
   * Stores `body` (any size) and publishes `topic` with `note(key)` as its payload, in one commit:
   * a reader woken by the note finds the parcel. False when the bus is down or the database
   * refused (nothing sent); a note over BUS_MAX_PAYLOAD bytes is refused too.
   */
  sendParcel: (topic: BusTopic, body: string, note: (key: string) => string) => Promise<boolean>
  /** The parcel's body, deleted as it is read; undefined when it is gone (claimed, expired) or the bus is down. */
  claimParcel: (key: string) => Promise<string | undefined>
}

export interface CloudBus {
  /** Tells every instance, this one included; a payload over BUS_MAX_PAYLOAD bytes is dropped (returns false). */
  publish: (topic: BusTopic, payload: string) => boolean
  /** Calls `cb` for each note on `topic`; returns the unsubscribe. */
  subscribe: (topic: BusTopic, cb: (payload: string) => void) => () => void
  /** Whether notes flow now (false while the database connection is down: readers poll faster meanwhile). */
  up: () => boolean
}

/** The embedded cloud's bus: one process, so notes are plain events (delivered on the next tick, like NOTIFY). */
export class LocalBus implements CloudBus {
  readonly #events = new EventEmitter().setMaxListeners(0)

  publish (topic: BusTopic, payload: string): boolean {
    if (Buffer.byteLength(payload) > BUS_MAX_PAYLOAD) return false
    queueMicrotask(() => this.#events.emit(topic, payload))
    return true
  }

  up (): boolean { return true }

  subscribe (topic: BusTopic, cb: (payload: string) => void): () => void {
    this.#events.on(topic, cb)
    return () => { this.#events.off(topic, cb) }
  }
}

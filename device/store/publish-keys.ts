// The LevelDB keys of pending publishes the store wrote this run, so removing a publish its
// broker acknowledged is a delete in the next group commit, not a lookup first: a publish key
// holds the encoded size after the id (keys.ts), which an id alone does not give.

/** Keys remembered at most; past it new publishes are looked up when removed (a long backlog). */
export const MAX_KNOWN_PUBLISH_KEYS = 4096

export interface KnownPublish { key: string, bytes: number }

/**
 * Id -> key of publishes in the database. Only the write lane updates it, after its batch
 * succeeded (every put and del of a publish key), so an entry always names a key on disk.
 */
export class PublishKeys {
  readonly #known = new Map<number, KnownPublish>()
  readonly #max: number

  constructor (max = MAX_KNOWN_PUBLISH_KEYS) {
    this.#max = max
  }

  get (id: number): KnownPublish | undefined {
    return this.#known.get(id)
  }

  /** A publish key was written. When full it is not kept: the oldest pending go out first, and they are kept. */
  written (id: number, key: string, bytes: number): void {
    if (this.#known.size < this.#max) this.#known.set(id, { key, bytes })
  }

  deleted (id: number): void {
    this.#known.delete(id)
  }

  get size (): number { return this.#known.size }
}

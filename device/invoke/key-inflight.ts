// Invocations running per sandbox key, so a swap can wait for the old version's in-flight
// calls to finish before it unloads that version (docs/architecture.md, "Deployer").

export class KeyInflight {
  readonly #count = new Map<string, number>()
  readonly #waiters = new Map<string, Array<() => void>>()

  start (key: string): void {
    this.#count.set(key, (this.#count.get(key) ?? 0) + 1)
  }

  end (key: string): void {
    const n = (this.#count.get(key) ?? 1) - 1
    if (n > 0) { this.#count.set(key, n); return }
    this.#count.delete(key)
    for (const done of this.#waiters.get(key)?.splice(0) ?? []) done()
    this.#waiters.delete(key)
  }

  /** Resolves once nothing runs on `key` (at once when nothing does now). */
  idle (key: string): Promise<void> {
    if (!this.#count.has(key)) return Promise.resolve()
    return new Promise((resolve) => {
      const list = this.#waiters.get(key) ?? []
      list.push(resolve)
      this.#waiters.set(key, list)
    })
  }
}

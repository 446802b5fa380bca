// Fetching bundles by sha256 over the device's own cloud connection [W6]: up/fetch, answered
// on down/bundle. Each try waits `timeoutMs` on the injectable clock; after `attempts` tries
// the fetch fails with LAMBKIN_DEPLOY_TIMEOUT, so a deployment never waits for ever.
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import type { BundleFrame } from '../../src/wire/index.js'
import type { Clock } from '../../src/clock.js'

/** What the fetcher needs of the cloud link (device/sync/cloud-link.ts). */
export interface FetchTransport {
  /** Sends up/fetch; false when offline (the try still waits its timeout: the link may come back). */
  sendFetch: (sha256: string) => boolean
}

export interface FetcherOptions {
  clock: Clock
  /** One try's wait for down/bundle, ms (deploy.fetchTimeoutMs). */
  timeoutMs: number
  /** Tries in all, >= 1. */
  attempts: number
}

interface Pending { resolve: (b: Uint8Array) => void, reject: (e: Error) => void, timer: unknown, tries: number }

export class Fetcher {
  readonly #o: FetcherOptions
  readonly #pending = new Map<string, Pending>()
  #transport: FetchTransport | undefined

  constructor (o: FetcherOptions) {
    this.#o = o
  }

  attach (t: FetchTransport): void {
    this.#transport = t
  }

  /**
   * The bytes the cloud sends for `sha256` (unchecked: the caller verifies them).
   * @throws LambkinError LAMBKIN_DEPLOY_TIMEOUT after the last try; the cloud's own code when
   *   it answers with an error (a hash it does not have); LAMBKIN_CLOSED when closed.
   */
  fetch (sha256: string): Promise<Uint8Array> {
    const had = this.#pending.get(sha256)
    if (had !== undefined) {
      return new Promise((resolve, reject) => {
        const { resolve: r0, reject: j0 } = had
        had.resolve = (b) => { r0(b); resolve(b) }
        had.reject = (e) => { j0(e); reject(e) }
      })
    }
    return new Promise((resolve, reject) => {
      const p: Pending = { resolve, reject, timer: undefined, tries: 0 }
      this.#pending.set(sha256, p)
      this.#try(sha256, p)
    })
  }

  #try (sha256: string, p: Pending): void {
    p.tries++
    this.#transport?.sendFetch(sha256)
    p.timer = this.#o.clock.setTimeout(() => {
      if (this.#pending.get(sha256) !== p) return
      if (p.tries < this.#o.attempts) { this.#try(sha256, p); return }
      this.#settle(sha256, new LambkinError(ErrorCodes.DEPLOY_TIMEOUT, `bundle ${sha256.slice(0, 12)} did not arrive after ${p.tries} requests ${this.#o.timeoutMs} ms apart; the deployment of it is given up until a newer one`))
    }, this.#o.timeoutMs)
  }

  /** The link reconnected: ask again at once for what is still missing. */
  retryNow (): void {
    for (const sha of this.#pending.keys()) this.#transport?.sendFetch(sha)
  }

  /** A down/bundle frame arrived [W6]; frames nobody asked for are ignored. */
  onBundle (f: BundleFrame): void {
    if (!this.#pending.has(f.sha256)) return
    if (f.bundle !== undefined) this.#settle(f.sha256, f.bundle)
    else {
      const e = f.error as { code: string, message: string }
      this.#settle(f.sha256, new LambkinError((e.code.startsWith('LAMBKIN_') ? e.code : ErrorCodes.BUNDLE_INVALID) as never, `the cloud could not give bundle ${f.sha256.slice(0, 12)}: ${e.message}`))
    }
  }

  #settle (sha256: string, r: Uint8Array | Error): void {
    const p = this.#pending.get(sha256)
    if (p === undefined) return
    this.#pending.delete(sha256)
    this.#o.clock.clearTimeout(p.timer)
    if (r instanceof Error) p.reject(r)
    else p.resolve(r)
  }

  close (): void {
    for (const sha of [...this.#pending.keys()]) this.#settle(sha, new LambkinError(ErrorCodes.CLOSED, 'the agent is closing'))
  }
}

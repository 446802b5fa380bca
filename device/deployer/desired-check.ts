// The first step for every `down/desired` [W5]: its own signature, made for this device by a
// trusted key (src/bundle/desired-sign.ts). A frame that fails is refused before the deployer
// looks at anything in it, counted by code, and remembered as the last refusal, which up/reported
// carries (`refusedDesired`, never the failures history: what a relay forges must not push real
// entries out). The same refusal again (a relay may resend a frame in a loop) is not logged or
// reported again.
import { verifyDesired } from '../../src/bundle/index.js'
import type { TrustedKey } from '../../src/bundle/index.js'
import type { LambkinError } from '../../src/errors.js'
import type { DesiredFrame, RefusedDesired } from '../../src/wire/index.js'
import type { FunctionMetrics } from '../metrics/index.js'
import type { Clock } from '../../src/clock.js'
import { DEPLOY_METRICS } from './metrics.js'

export interface DesiredCheckOptions {
  deviceId: string
  trusted: ReadonlyMap<string, TrustedKey>
  metrics: FunctionMetrics
  clock: Clock
  log: (line: string) => void
}

export class DesiredCheck {
  readonly #o: DesiredCheckOptions
  #last: RefusedDesired | undefined

  constructor (o: DesiredCheckOptions) {
    this.#o = o
  }

  /** The last desired state refused, for up/reported. */
  get lastRefused (): RefusedDesired | undefined { return this.#last }

  /** Undefined when `f` is authentic; else its refusal, `fresh` when it differs from the last one (report it). */
  check (f: DesiredFrame): { refusal: RefusedDesired, fresh: boolean } | undefined {
    try {
      verifyDesired(this.#o.deviceId, f, this.#o.trusted)
      return undefined
    } catch (err) {
      const e = err as LambkinError
      this.#o.metrics.inc(DEPLOY_METRICS.desiredRefused, { code: e.code })
      const last = this.#last
      if (last?.code === e.code && last.deploymentId === f.deploymentId) return { refusal: last, fresh: false }
      this.#o.log(`desired state refused, nothing applied: ${e.code}: ${e.message}`)
      this.#last = { deploymentId: f.deploymentId, code: e.code, message: e.message, at: this.#o.clock.now() }
      return { refusal: this.#last, fresh: true }
    }
  }
}

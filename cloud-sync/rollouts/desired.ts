// Desired state out to devices [W5]: changes go to the registry (one atomic write with their
// deployment ids), then each changed device's whole desired state is signed for that device
// (src/bundle/desired-sign.ts, the cloud's key: signing-key.ts) and published retained, QoS
// 1, on its down/desired; and again whenever a device connects, because aedes keeps retained
// messages in memory only and after a cloud restart the registry is the truth.
import { signDesired } from '../../src/bundle/index.js'
import type { SigningKey } from '../../src/bundle/index.js'
import { downTopic, encodeFrame } from '../../src/wire/index.js'
import type { DesiredFrame, DesiredFunction, DesiredVersion, ReportedFrame } from '../../src/wire/index.js'
import type { BundleRow, DesiredChange, DesiredRow, Registry } from '../registry/index.js'

/** How the cloud reaches devices: the device broker's publish and connection state. */
export interface DeviceLink {
  publish: (topic: string, payload: Buffer, opts: { qos: 0 | 1, retain: boolean }) => Promise<void>
  isConnected: (deviceId: string) => boolean
}

/**
 * The `down/desired` frame of a row: every function with a current entry, by name, labelled
 * with the rollout that set it (the slot's `from`), so the device's log lines and reports name
 * the rollout the operator sees.
 */
export function desiredFrame (row: DesiredRow): DesiredFrame {
  const functions: DesiredFunction[] = []
  for (const name of Object.keys(row.functions).sort()) {
    const slot = row.functions[name]
    if (slot.current === undefined) continue
    const { rollout: _stored, ...entry } = slot.current
    functions.push(slot.from === undefined ? entry : { ...entry, rollout: slot.from.rollout })
  }
  return { deploymentId: row.deploymentId, functions, time: row.updatedAt }
}

/** A bundle as desired state names it [W5]. */
export function versionOf (b: BundleRow): DesiredVersion {
  return { version: b.version, number: b.number, sha256: b.sha256, size: b.size, signature: b.signature, keyId: b.keyId }
}

/**
 * The desired entry for what a device reports it runs of `fn` now [W5]: each reported sha256
 * matched to a stored bundle of that function. Null when it runs no deployed version of `fn`
 * (none, one from its own folder, or a bundle this cloud does not have); a canary that cannot
 * be matched is left out.
 */
export async function runningEntry (registry: Pick<Registry, 'getBundle'>, rep: ReportedFrame, fn: string): Promise<DesiredFunction | null> {
  const f = rep.functions.find((x) => x.name === fn)
  const find = async (sha256: string | undefined): Promise<BundleRow | undefined> => {
    const b = sha256 === undefined ? undefined : await registry.getBundle(sha256)
    return b?.name === fn ? b : undefined
  }
  const live = await find(f?.sha256)
  if (live === undefined) return null
  const canary = await find(f?.canary?.sha256)
  return {
    name: fn,
    live: versionOf(live),
    ...(canary === undefined || f?.canary === undefined ? {} : { canary: { ...versionOf(canary), weight: f.canary.weight } })
  }
}

/**
 * The entry a deploy of `b` under `alias` gives a function whose current entry is `current`:
 * live replaces the whole entry (a canary there ends); canary keeps live and adds the canary
 * with its weight. Undefined when a canary has no live version to split with.
 */
export function deployEntry (b: BundleRow, alias: 'live' | 'canary', weight: number | undefined, current: DesiredFunction | undefined): DesiredFunction | undefined {
  if (alias === 'live') return { name: b.name, live: versionOf(b) }
  if (current === undefined) return undefined
  return { name: b.name, live: current.live, canary: { ...versionOf(b), weight: weight ?? 10 } }
}

export class DesiredPublisher {
  readonly #registry: Registry
  readonly #link: DeviceLink
  readonly #now: () => number
  readonly #signer: SigningKey
  /** Publishes that failed (the broker closing); the device still gets the state on its next connect. */
  failedPublishes = 0

  constructor (registry: Registry, link: DeviceLink, now: () => number, signer: SigningKey) {
    this.#registry = registry
    this.#link = link
    this.#now = now
    this.#signer = signer
  }

  /** The frame a device gets: its desired state, signed for it [W5]. */
  signedFrame (row: DesiredRow): DesiredFrame {
    const frame = desiredFrame(row)
    frame.auth = signDesired(row.device, frame, this.#signer)
    return frame
  }

  /** Writes the changes (each device changed gets a new deployment id) and publishes each new state. */
  async apply (changes: DesiredChange[]): Promise<DesiredRow[]> {
    const rows = await this.#registry.setDesired(changes, this.#now())
    await Promise.all(rows.map(async (r) => { await this.#publish(r) }))
    return rows
  }

  /** Publishes the device's desired state again, if it has one (on connect). */
  async republish (device: string): Promise<void> {
    const row = await this.#registry.getDesired(device)
    if (row !== undefined) await this.#publish(row)
  }

  async #publish (row: DesiredRow): Promise<void> {
    try {
      await this.#link.publish(downTopic(row.device, 'desired'), encodeFrame(this.signedFrame(row) as unknown as Record<string, unknown>), { qos: 1, retain: true })
    } catch {
      this.failedPublishes++
    }
  }
}

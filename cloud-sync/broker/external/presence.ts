// Which devices are connected, for a cloud that does not hold their connections (external
// broker, docs/scale-out.md "Presence"): what the registry says (each device's last `up/status`
// [W3], its will setting `offline`, and heartbeat ages on the database's clock), read every
// refreshMs, corrected at once by the status frames this instance takes itself. Another
// instance's news arrives with the next refresh.
import { decodeFrame, parseDeviceTopic, parseStatus } from '../../../src/wire/index.js'
import { deviceState } from '../../api/views.js'
import type { Registry } from '../../registry/index.js'

export const PRESENCE_DEFAULTS = Object.freeze({ refreshMs: 5000 })

export interface PresenceOptions {
  registry: Pick<Registry, 'listDevices'>
  /** The "now" a device's lastSeen is aged against (registry/pg/seen.ts). */
  nowFor: (id: string, lastSeen: number | undefined) => number
  refreshMs?: number
}

export class Presence {
  readonly #o: PresenceOptions & { refreshMs: number }
  readonly #online = new Set<string>()
  /** Status frames this instance took while a refresh ran: they are newer than the rows it read. */
  #noted = new Map<string, boolean>()
  #timer: ReturnType<typeof setInterval> | undefined
  #refreshing: Promise<void> | undefined

  constructor (o: PresenceOptions) {
    this.#o = { ...PRESENCE_DEFAULTS, ...o }
  }

  /** Starts the periodic refresh (the first one now, not awaited). */
  start (): void {
    void this.refresh()
    this.#timer = setInterval(() => { void this.refresh() }, this.#o.refreshMs)
    this.#timer.unref()
  }

  /**
   * One device publish seen by this instance: an `up/status` changes the device's presence
   * [W3]; any other publish shows it connected. Returns 'online' or 'offline' when a status
   * frame said so (the device connected, or its will or clean stop arrived).
   */
  note (topic: string, payload: Buffer): 'online' | 'offline' | undefined {
    const t = parseDeviceTopic(topic)
    if (t === undefined || t.direction !== 'up') return undefined
    if (t.kind !== 'status') { this.#set(t.deviceId, true); return undefined }
    let state: 'online' | 'offline'
    try {
      state = parseStatus(decodeFrame(payload, 64 * 1024)).state
    } catch {
      return undefined // ingest refuses and counts it [W8]
    }
    this.#set(t.deviceId, state === 'online')
    return state
  }

  #set (id: string, online: boolean): void {
    if (online) this.#online.add(id)
    else this.#online.delete(id)
    if (this.#refreshing !== undefined) this.#noted.set(id, online)
  }

  isConnected (id: string): boolean {
    return this.#online.has(id)
  }

  connected (): string[] {
    return [...this.#online]
  }

  /** Reads every device's state from the registry; a registry out of reach leaves the set as it was. */
  async refresh (): Promise<void> {
    this.#refreshing ??= (async () => {
      this.#noted = new Map()
      try {
        const rows = await this.#o.registry.listDevices()
        this.#online.clear()
        for (const d of rows) if (deviceState(d, this.#o.nowFor(d.id, d.lastSeen)) === 'online') this.#online.add(d.id)
        for (const [id, online] of this.#noted) if (online) this.#online.add(id); else this.#online.delete(id)
      } catch { /* the database is down: the API says so; presence keeps its last view */ } finally {
        this.#refreshing = undefined
      }
    })()
    await this.#refreshing
  }

  close (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }
}

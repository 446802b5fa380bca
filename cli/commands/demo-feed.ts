// The demo's simulated sensors: every 500 ms each room's temperature (JSON), humidity (a bare
// number) and CO2 go at QoS 1 to its board's embedded broker, as LAN sensors would publish
// them, and the boards' thermal zone file gets a new reading, as the kernel would write it.
import mqtt from 'mqtt'
import type { MqttClient } from 'mqtt'
import { writeThermal } from './demo-world.js'

export const TICK_MS = 500

export interface Room { name: string, tempBase: number, tempAmp: number, humBase: number, humAmp: number, co2Base: number, periodMs: number, phase: number }

/** The greenhouse swings around the threshold-alarm's 70 and starts above it; the office stays clear. */
export const DEMO_ROOMS: readonly Room[] = Object.freeze([
  { name: 'greenhouse', tempBase: 68, tempAmp: 3.5, humBase: 70, humAmp: 8, co2Base: 900, periodMs: 20_000, phase: Math.PI / 2 },
  { name: 'office', tempBase: 21.5, tempAmp: 1, humBase: 42, humAmp: 4, co2Base: 650, periodMs: 40_000, phase: 0 }
])

export interface Reading { room: string, temperature: number, humidity: number, co2: number }

/** Slow sine drift plus a mean-reverting random walk per room, one decimal like a real probe. */
export class SensorSimulator {
  readonly #rooms: readonly Room[]
  readonly #random: () => number
  readonly #walk: number[]

  constructor (rooms: readonly Room[] = DEMO_ROOMS, random: () => number = Math.random) {
    this.#rooms = rooms
    this.#random = random
    this.#walk = rooms.map(() => 0)
  }

  read (elapsedMs: number): Reading[] {
    return this.#rooms.map((r, i) => {
      const walk = this.#walk[i] = (this.#walk[i] ?? 0) * 0.9 + (this.#random() - 0.5) * 0.8
      const wave = Math.sin(2 * Math.PI * elapsedMs / r.periodMs + r.phase)
      const round = (v: number): number => Math.round(v * 10) / 10
      return {
        room: r.name,
        temperature: round(r.tempBase + r.tempAmp * wave + walk),
        humidity: round(Math.min(100, Math.max(0, r.humBase + r.humAmp * wave - 3 * walk))),
        co2: Math.round(r.co2Base + 150 * wave + 40 * walk)
      }
    })
  }
}

/** The SoC temperature the thermal zone shows: 50 to 70 °C over a minute, across fan-controller's 55/65. */
export function socTemperature (elapsedMs: number): number {
  return Math.round((60 + 10 * Math.sin(2 * Math.PI * elapsedMs / 60_000)) * 10) / 10
}

export interface Feed {
  /** Readings published so far. */
  readonly published: number
  stop: () => Promise<void>
}

/**
 * Starts feeding: `brokers` maps a room to its board's broker URL. Clients reconnect by
 * themselves, and QoS 1 messages wait in them, should a board restart.
 */
export async function startFeed (brokers: ReadonlyMap<string, string>, thermalFile: string, onTick: (r: Reading[]) => void): Promise<Feed> {
  const clients = new Map<string, MqttClient>()
  for (const [room, url] of brokers) clients.set(room, await mqtt.connectAsync(url, { clientId: `lambkin-demo-sensors-${room}`, reconnectPeriod: 500 }))
  const sim = new SensorSimulator(DEMO_ROOMS.filter((r) => brokers.has(r.name)))
  const started = Date.now()
  let published = 0
  const tick = (): void => {
    const elapsed = Date.now() - started
    const readings = sim.read(elapsed)
    for (const r of readings) {
      const c = clients.get(r.room)
      if (c === undefined) continue
      c.publish(`sensors/${r.room}/temperature`, JSON.stringify({ value: r.temperature }), { qos: 1 })
      c.publish(`sensors/${r.room}/humidity`, String(r.humidity), { qos: 1 })
      c.publish(`sensors/${r.room}/co2`, JSON.stringify({ value: r.co2 }), { qos: 1 })
      published += 3
    }
    try { writeThermal(thermalFile, socTemperature(elapsed)) } catch {}
    onTick(readings)
  }
  tick()
  const timer = setInterval(tick, TICK_MS)
  return {
    get published () { return published },
    stop: async () => {
      clearInterval(timer)
      await Promise.all([...clients.values()].map(async (c) => await c.endAsync(true).catch(() => {})))
    }
  }
}

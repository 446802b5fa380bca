// The three trigger kinds of function.json (MQTT topic, polled sensor, cron schedule): their
// shapes, defaults, and the checks that refuse a bad one naming `triggers[i].key`.
import path from 'node:path'
import { nodeCron } from '../cron-lib.js'
import { bad, int, isObject, num, object, show, str } from './check.js'
import { isValidTopicFilter, topicFilterProblem } from './topic-filter.js'
import { ID_PATTERN } from '../ids.js'
import { isKnownZone } from '../wall-time.js'
import { splitSharedFilter } from './shared-subscription.js'
import { errorMessage } from '../errors.js'

/**
 * How a message's bytes become the event: `auto` JSON if they parse, else UTF-8 text, else
 * (not valid UTF-8) base64 in `payloadBase64`; `json` and `text` refuse what is not that
 * (LAMBKIN_PAYLOAD_INVALID dead letter); `bytes` always base64 in `payloadBase64`.
 */
export type MqttPayloadFormat = 'auto' | 'json' | 'text' | 'bytes'
/**
 * MQTT 5 Retain Handling (section 3.8.3.1): 0 retained messages are sent on every subscribe,
 * 1 only when the subscription did not exist yet, 2 never.
 */
export type RetainHandling = 0 | 1 | 2
export interface MqttTrigger {
  /** A topic filter, or `$share/{ShareName}/{filter}` for a shared subscription (MQTT 5 section 4.8.2). */
  mqtt: string
  qos: 0 | 1
  /** Absent means TRIGGER_DEFAULTS.mqtt.payload ('auto'); kept only when given. */
  payload?: MqttPayloadFormat
  /** Absent means TRIGGER_DEFAULTS.mqtt.retainHandling (0); kept only when given. */
  retainHandling?: RetainHandling
  batch?: { size: number, windowMs: number }
}
export interface SensorSim { min?: number, max?: number, periodMs?: number, step?: number, seed?: number }
export interface SensorTrigger {
  sensor: string
  /** An absolute file path (sysfs, IIO, 1-Wire), or `sim:sine` / `sim:random-walk`. */
  path: string
  everyMs: number
  scale: number
  deadband: number
  format: 'auto' | 'number' | 'w1'
  /** Only on `sim:` paths; absent keys take the simulator's own defaults. */
  sim?: SensorSim
  /** Plausible range of the reading after `scale`, bounds included; outside it a reading is dropped and counted. */
  valid?: SensorValid
}
export interface SensorValid { min?: number, max?: number }
export interface ScheduleTrigger { schedule: string, timezone: string, catchUp: number }
export type Trigger = MqttTrigger | SensorTrigger | ScheduleTrigger
export type TriggerKind = 'mqtt' | 'sensor' | 'schedule'

export const SIMULATED_SENSORS = Object.freeze(['sim:sine', 'sim:random-walk'] as const)
export const SENSOR_FORMATS = Object.freeze(['auto', 'number', 'w1'] as const)
export const MQTT_PAYLOAD_FORMATS = Object.freeze(['auto', 'json', 'text', 'bytes'] as const)
export const TRIGGER_DEFAULTS = Object.freeze({
  mqtt: Object.freeze({ qos: 1 as const, payload: 'auto' as const, retainHandling: 0 as const }),
  sensor: Object.freeze({ everyMs: 1000, scale: 1, deadband: 0, format: 'auto' as const }),
  schedule: Object.freeze({ timezone: 'UTC', catchUp: 0 })
})

const KINDS: readonly TriggerKind[] = ['mqtt', 'sensor', 'schedule']

export function triggerKind (t: Trigger): TriggerKind {
  return 'mqtt' in t ? 'mqtt' : 'sensor' in t ? 'sensor' : 'schedule'
}

export function validateTrigger (v: unknown, i: number): Trigger {
  const key = `triggers[${i}]`
  if (!isObject(v)) bad(key, `must be an object with one of "mqtt", "sensor" or "schedule", got ${show(v)}`)
  const kinds = KINDS.filter((k) => Object.hasOwn(v, k))
  if (kinds.length !== 1) {
    bad(key, `must have exactly one of "mqtt", "sensor" or "schedule", found ${kinds.length === 0 ? 'none' : kinds.join(' and ')}`)
  }
  if (kinds[0] === 'mqtt') return mqtt(v, key)
  if (kinds[0] === 'sensor') return sensor(v, key)
  return schedule(v, key)
}

function mqtt (v: Record<string, unknown>, key: string): MqttTrigger {
  const t = object(v, key, ['mqtt', 'qos', 'batch', 'payload', 'retainHandling'])
  if (!isValidTopicFilter(t.mqtt)) {
    // Say which rule it breaks: a fixed wildcard hint misled for a filter over 65,535 bytes.
    bad(`${key}.mqtt`, `is not a valid MQTT topic filter: ${show(t.mqtt)}: it ${String(topicFilterProblem(t.mqtt))}`)
  }
  checkShared(t.mqtt, `${key}.mqtt`)
  const qos = int(t.qos, `${key}.qos`, 0, 1, TRIGGER_DEFAULTS.mqtt.qos) as 0 | 1
  const out: MqttTrigger = { mqtt: t.mqtt, qos }
  if (t.payload !== undefined) {
    if (!(MQTT_PAYLOAD_FORMATS as readonly unknown[]).includes(t.payload)) bad(`${key}.payload`, `must be ${MQTT_PAYLOAD_FORMATS.map((f) => `"${f}"`).join(', ')}, got ${show(t.payload)}`)
    out.payload = t.payload as MqttPayloadFormat
  }
  if (t.retainHandling !== undefined) out.retainHandling = int(t.retainHandling, `${key}.retainHandling`, 0, 2) as RetainHandling
  if (t.batch === undefined) return out
  const b = object(t.batch, `${key}.batch`, ['size', 'windowMs'])
  return { ...out, batch: { size: int(b.size, `${key}.batch.size`, 1, 10_000), windowMs: int(b.windowMs, `${key}.batch.windowMs`, 1, 60_000) } }
}

/** A `$share/` filter needs a valid share name and a valid filter after it (MQTT 5 section 4.8.2). */
function checkShared (filter: string, key: string): void {
  let shared
  try {
    shared = splitSharedFilter(filter)
  } catch (err) {
    bad(key, `is not a valid shared subscription: ${errorMessage(err)} (use "$share/<name>/<filter>")`)
  }
  if (shared !== undefined && !isValidTopicFilter(shared.filter)) bad(key, `is not a valid shared subscription: ${show(shared.filter)} is not a valid topic filter`)
}

function sensor (v: Record<string, unknown>, key: string): SensorTrigger {
  const t = object(v, key, ['sensor', 'path', 'everyMs', 'scale', 'deadband', 'format', 'sim', 'valid'])
  const name = str(t.sensor, `${key}.sensor`)
  if (!ID_PATTERN.test(name)) bad(`${key}.sensor`, `must match ${String(ID_PATTERN)}, got ${show(name)}`)
  const file = str(t.path, `${key}.path`)
  const simulated = file.startsWith('sim:')
  if (simulated && !(SIMULATED_SENSORS as readonly string[]).includes(file)) {
    bad(`${key}.path`, `names an unknown simulated sensor ${show(file)}; use ${SIMULATED_SENSORS.join(' or ')}`)
  }
  // A relative path would depend on the agent's working directory: refuse it rather than guess.
  if (!simulated && !path.posix.isAbsolute(file)) bad(`${key}.path`, `must be an absolute file path or ${SIMULATED_SENSORS.join(' / ')}, got ${show(file)}`)
  const format = t.format ?? TRIGGER_DEFAULTS.sensor.format
  if (!(SENSOR_FORMATS as readonly unknown[]).includes(format)) bad(`${key}.format`, `must be ${SENSOR_FORMATS.map((f) => `"${f}"`).join(', ')}, got ${show(format)}`)
  const out: SensorTrigger = {
    sensor: name,
    path: file,
    everyMs: int(t.everyMs, `${key}.everyMs`, 10, 86_400_000, TRIGGER_DEFAULTS.sensor.everyMs),
    scale: num(t.scale, `${key}.scale`, TRIGGER_DEFAULTS.sensor.scale),
    deadband: num(t.deadband, `${key}.deadband`, TRIGGER_DEFAULTS.sensor.deadband, 0),
    format: format as SensorTrigger['format']
  }
  if (t.sim !== undefined) {
    if (!simulated) bad(`${key}.sim`, `only applies to simulated sensors (${SIMULATED_SENSORS.join(', ')}), but path is ${show(file)}`)
    out.sim = sim(t.sim, `${key}.sim`)
  }
  if (t.valid !== undefined) out.valid = valid(t.valid, `${key}.valid`)
  return out
}

function valid (v: unknown, key: string): SensorValid {
  const r = object(v, key, ['min', 'max'])
  if (r.min === undefined && r.max === undefined) bad(key, 'must give "min", "max" or both, e.g. { "min": -40, "max": 125 }')
  const out: SensorValid = {}
  if (r.min !== undefined) out.min = num(r.min, `${key}.min`, 0)
  if (r.max !== undefined) out.max = num(r.max, `${key}.max`, 0)
  if (out.min !== undefined && out.max !== undefined && out.min > out.max) bad(`${key}.max`, `must be at least min (${out.min}), got ${out.max}`)
  return out
}

function sim (v: unknown, key: string): SensorSim {
  const s = object(v, key, ['min', 'max', 'periodMs', 'step', 'seed'])
  // A fresh object: the manifest is frozen on return, and the caller's input must not be.
  const out: SensorSim = {}
  if (s.min !== undefined) out.min = num(s.min, `${key}.min`, 0)
  if (s.max !== undefined) out.max = num(s.max, `${key}.max`, 0)
  if (out.min !== undefined && out.max !== undefined && out.min > out.max) bad(`${key}.max`, `must be at least min (${out.min}), got ${out.max}`)
  if (s.periodMs !== undefined) out.periodMs = int(s.periodMs, `${key}.periodMs`, 1, 86_400_000 * 365)
  if (s.step !== undefined) out.step = num(s.step, `${key}.step`, 0, 0)
  if (s.seed !== undefined) out.seed = int(s.seed, `${key}.seed`, 0, 0xffffffff)
  return out
}

function schedule (v: Record<string, unknown>, key: string): ScheduleTrigger {
  const t = object(v, key, ['schedule', 'timezone', 'catchUp'])
  const expr = str(t.schedule, `${key}.schedule`)
  if (!validCron(expr)) bad(`${key}.schedule`, `is not a valid cron expression: ${show(expr)} (5 fields "min hour day month weekday", or 6 with seconds first)`)
  const timezone = t.timezone === undefined ? TRIGGER_DEFAULTS.schedule.timezone : str(t.timezone, `${key}.timezone`)
  if (!isKnownZone(timezone)) bad(`${key}.timezone`, `is not a known IANA time zone: ${show(timezone)} (e.g. "UTC", "Europe/Berlin")`)
  return { schedule: expr, timezone, catchUp: int(t.catchUp, `${key}.catchUp`, 0, 1000, TRIGGER_DEFAULTS.schedule.catchUp) }
}

function validCron (expr: string): boolean {
  try {
    return nodeCron().validate(expr)
  } catch {
    return false
  }
}

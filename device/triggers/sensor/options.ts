// Defaults and checks for sensor triggers: a bad spec or option throws a LambkinError naming
// the key; numbers outside sane ranges are clamped.
import { readFile as fsReadFile } from 'node:fs/promises'
import { ErrorCodes, LambkinError } from '../../../src/errors.js'
import { systemClock } from '../../../src/clock.js'
import type { Clock } from '../../../src/clock.js'
import { isCounters } from '../counters.js'
import type { TriggerCounters } from '../counters.js'
import { sensorKindOf } from './non-readings.js'
import type { SensorKind } from './non-readings.js'
import type { ReadFile, SensorSpec, SensorTriggerOptions } from './types.js'

export const SENSOR_DEFAULTS = Object.freeze({
  everyMs: 1000,
  scale: 1,
  deadband: 0,
  format: 'auto' as const,
  /** Backoff ceiling while a sensor keeps failing. */
  maxBackoffMs: 60_000,
  /** At most one onError report per this many ms while a sensor stays broken. */
  reportEveryMs: 60_000,
  /** Clamp for everyMs (the manifest's range). */
  minEveryMs: 10,
  maxEveryMs: 86_400_000
})

export const SIM_DEFAULTS = Object.freeze({ min: 15, max: 35, periodMs: 60_000, step: 0.5 })

export const SIM_KINDS = ['sim:sine', 'sim:random-walk'] as const
export type SimKind = (typeof SIM_KINDS)[number]

export interface ResolvedSensorOptions {
  sensor: string
  path: string
  everyMs: number
  scale: number
  deadband: number
  format: 'number' | 'w1'
  /** What the file is, for the non-reading rules (non-readings.ts). */
  kind: SensorKind
  /** Plausible `value` range, bounds included; ±Infinity when not given. */
  valid: { min: number, max: number }
  sim?: { kind: SimKind, min: number, max: number, periodMs: number, step: number, seed?: number }
  clock: Clock
  onEvent: SensorTriggerOptions['onEvent']
  onError: SensorTriggerOptions['onError']
  random: () => number
  readFile: ReadFile
  metrics: TriggerCounters | undefined
  functionName: string
}

function bad (code: typeof ErrorCodes.CONFIG_INVALID | typeof ErrorCodes.MANIFEST_INVALID, key: string, msg: string): never {
  throw new LambkinError(code, `sensor trigger ${key} ${msg}`, { details: { key } })
}

function finite (v: unknown, key: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(ErrorCodes.MANIFEST_INVALID, key, `must be a finite number, got ${JSON.stringify(v)}`)
  return v
}

function defined<T extends object> (o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

export function resolveSensorOptions (spec: SensorSpec, opts: SensorTriggerOptions): ResolvedSensorOptions {
  if (typeof spec !== 'object' || spec === null) bad(ErrorCodes.MANIFEST_INVALID, 'spec', 'must be an object like { "sensor": "cpu-temp", "path": "/sys/..." }')
  const s = { ...SENSOR_DEFAULTS, ...defined(spec) }
  if (typeof s.sensor !== 'string' || s.sensor === '') bad(ErrorCodes.MANIFEST_INVALID, 'sensor', 'must be a non-empty name')
  if (typeof s.path !== 'string' || s.path === '') bad(ErrorCodes.MANIFEST_INVALID, 'path', 'must be a file path or sim:sine / sim:random-walk')
  const everyMs = Math.min(SENSOR_DEFAULTS.maxEveryMs, Math.max(SENSOR_DEFAULTS.minEveryMs, Math.round(finite(s.everyMs, 'everyMs'))))
  const scale = finite(s.scale, 'scale')
  const deadband = Math.max(0, finite(s.deadband, 'deadband'))
  if (!['auto', 'number', 'w1'].includes(s.format)) bad(ErrorCodes.MANIFEST_INVALID, 'format', 'must be "auto", "number" or "w1"')
  const base = s.path.split('/').pop() ?? ''
  const format = s.format === 'auto' ? (base === 'w1_slave' ? 'w1' : 'number') : s.format
  const v = s.valid ?? {}
  if (typeof v !== 'object' || v === null) bad(ErrorCodes.MANIFEST_INVALID, 'valid', 'must be an object like { "min": -40, "max": 125 }')
  const valid = {
    min: v.min === undefined ? -Infinity : finite(v.min, 'valid.min'),
    max: v.max === undefined ? Infinity : finite(v.max, 'valid.max')
  }
  if (valid.min > valid.max) bad(ErrorCodes.MANIFEST_INVALID, 'valid.min', `(${valid.min}) must not be above valid.max (${valid.max})`)
  let sim: ResolvedSensorOptions['sim']
  if (s.path.startsWith('sim:')) {
    if (!(SIM_KINDS as readonly string[]).includes(s.path)) bad(ErrorCodes.MANIFEST_INVALID, 'path', `names an unknown simulated sensor "${s.path}": use sim:sine or sim:random-walk`)
    const g = { ...SIM_DEFAULTS, ...defined(s.sim ?? {}) }
    const min = finite(g.min, 'sim.min')
    const max = finite(g.max, 'sim.max')
    if (min > max) bad(ErrorCodes.MANIFEST_INVALID, 'sim.min', `(${min}) must not be above sim.max (${max})`)
    const periodMs = finite(g.periodMs, 'sim.periodMs')
    if (periodMs <= 0) bad(ErrorCodes.MANIFEST_INVALID, 'sim.periodMs', 'must be above 0')
    const step = Math.max(0, finite(g.step, 'sim.step'))
    sim = { kind: s.path as SimKind, min, max, periodMs, step, ...(g.seed === undefined ? {} : { seed: finite(g.seed, 'sim.seed') }) }
  }
  const o = { clock: systemClock, random: Math.random, readFile: async (p: string) => await fsReadFile(p, 'utf8'), ...defined(opts) }
  if (typeof o.onEvent !== 'function') bad(ErrorCodes.CONFIG_INVALID, 'onEvent', 'must be a function')
  if (o.onError !== undefined && typeof o.onError !== 'function') bad(ErrorCodes.CONFIG_INVALID, 'onError', 'must be a function when given')
  if (typeof o.random !== 'function') bad(ErrorCodes.CONFIG_INVALID, 'random', 'must be a function returning [0, 1)')
  if (typeof o.readFile !== 'function') bad(ErrorCodes.CONFIG_INVALID, 'readFile', 'must be a function (path) => Promise<string>')
  const c = o.clock as Partial<Clock> | undefined
  if (typeof c?.now !== 'function' || typeof c.setTimeout !== 'function' || typeof c.clearTimeout !== 'function') bad(ErrorCodes.CONFIG_INVALID, 'clock', 'must have now(), setTimeout() and clearTimeout()')
  if (o.metrics !== undefined && !isCounters(o.metrics)) bad(ErrorCodes.CONFIG_INVALID, 'metrics', 'must have register() and inc() (the agent\'s FunctionMetrics) when given')
  const functionName = o.functionName ?? s.sensor
  if (typeof functionName !== 'string' || functionName === '') bad(ErrorCodes.CONFIG_INVALID, 'functionName', 'must be a non-empty string when given')
  return {
    sensor: s.sensor,
    path: s.path,
    everyMs,
    scale,
    deadband,
    format,
    kind: sensorKindOf(s.path, format),
    valid,
    sim,
    clock: o.clock,
    onEvent: o.onEvent,
    onError: o.onError,
    random: o.random,
    readFile: o.readFile,
    metrics: o.metrics,
    functionName
  }
}

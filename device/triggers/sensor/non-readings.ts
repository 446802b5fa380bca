// Values a sensor file holds that are not measurements, by sensor kind, and how a dropped
// reading is classed for `lambkin_sensor_readings_dropped_total{reason}`. The kinds come from
// the kernel's file names: 1-Wire `w1_slave` (w1_therm), thermal zone `temp`, hwmon
// `temp*_input` and IIO `in_temp*` (millidegrees Celsius per their sysfs ABI docs), and any
// other number file (IIO voltage, humidity, ...), which has no known sentinel values.
import { basename, dirname } from 'node:path'
import { iioChannel } from './file-source.js'
import type { Sample } from './file-source.js'

/** The `reason` label of a dropped reading. */
export type DropReason = 'not_a_reading' | 'out_of_range' | 'unavailable'

export type SensorKind =
  /** A w1_therm `w1_slave`; `family` is the 1-Wire family code from the folder (28-0316a2794eff). */
  | { kind: 'w1', family: string | undefined }
  /** A file in millidegrees Celsius: thermal zone, hwmon or IIO temperature. */
  | { kind: 'temperature' }
  | { kind: 'number' }

/** The DS18B20's (and DS18S20's, DS1822's, DS1825's, DS28EA00's) power-on scratchpad value. */
export const W1_POWER_ON_MILLIC = 85_000
/** An 85 °C reading is taken when the previous accepted one was this close to it. */
export const W1_POWER_ON_NEAR_MILLIC = 10_000
/** 0 K: no temperature file can read below it (ACPI's "0 dK" reads -273200, the kernel's THERMAL_TEMP_INVALID -274000). */
export const ABSOLUTE_ZERO_MILLIC = -273_150

/** What each w1_therm family can measure, from its datasheet; t= outside it is a bus fault (t=127937: ff 07). */
const W1_RANGES: Record<string, [number, number]> = {
  10: [-55_000, 125_000], // DS18S20
  22: [-55_000, 125_000], // DS1822
  28: [-55_000, 125_000], // DS18B20
  42: [-40_000, 85_000] // DS28EA00
  // 3b is both DS1825 and the MAX31850 thermocouple reader (-270 to +1800 °C): no range.
}

/**
 * Details reasons (`err.details.reason`) that mean the sensor answered with something that is
 * not a reading: dropped, retried on the next poll without backoff, reported once per streak.
 * Transient errnos count here: a thermal zone or IIO driver answers EAGAIN/EBUSY/ENODATA while
 * its device is busy or has no sample yet.
 */
export const NOT_A_READING = new Set(['crc', 'all_zero', 'all_ones', 'not_ready', 'power_on_reset', 'beyond_sensor_range', 'below_absolute_zero'])

export function sensorKindOf (path: string, format: 'number' | 'w1'): SensorKind {
  if (format === 'w1') {
    const family = /^([0-9a-f]{2})-[0-9a-f]+$/i.exec(basename(dirname(path)))?.[1].toLowerCase()
    return { kind: 'w1', family }
  }
  const file = basename(path)
  if (file === 'temp' || /^temp\d+_input$/.test(file) || iioChannel(file)?.type === 'temp') return { kind: 'temperature' }
  return { kind: 'number' }
}

export interface NonReading {
  /** The specific rule (a `NOT_A_READING` member), for the log and `err.details.reason`. */
  reason: string
  message: string
}

/**
 * Whether a parsed sample is a known non-reading. `previousRaw` is the raw value of the last
 * reading accepted since the sensor last failed (undefined after a failure or at start): the
 * 85 °C rule needs it. Rules:
 * - w1: t=85000 is the power-on value unless the previous accepted reading was within 10 °C
 *   of 85 °C (then it is a real 85 °C); t outside the family's datasheet range is a bus fault.
 * - temperature files: below absolute zero (sentinels -273200, -274000, INT_MIN).
 */
export function nonReading (kind: SensorKind, sample: Sample, previousRaw: number | undefined): NonReading | undefined {
  if (kind.kind === 'w1') {
    const t = sample.raw
    if (t === W1_POWER_ON_MILLIC && (previousRaw === undefined || Math.abs(previousRaw - W1_POWER_ON_MILLIC) > W1_POWER_ON_NEAR_MILLIC)) {
      const after = previousRaw === undefined ? 'as the first reading since start or a failure' : `after ${previousRaw / 1000} °C`
      return { reason: 'power_on_reset', message: `t=85000 ${after} is the sensor's power-on value (85 °C), not a measurement: it had not converted yet (a power glitch or a parasite-power supply too weak for the conversion)` }
    }
    const range = kind.family === undefined ? undefined : W1_RANGES[kind.family]
    if (range !== undefined && (t < range[0] || t > range[1])) {
      return { reason: 'beyond_sensor_range', message: `t=${t} is outside what a family ${kind.family ?? ''} sensor measures (${range[0] / 1000} to ${range[1] / 1000} °C): a bus fault, not a measurement` }
    }
    return undefined
  }
  if (kind.kind === 'temperature' && sample.scaled < ABSOLUTE_ZERO_MILLIC) {
    return { reason: 'below_absolute_zero', message: `${sample.scaled} m°C is below absolute zero: the driver's "no temperature" value, not a measurement` }
  }
  return undefined
}

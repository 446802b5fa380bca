import type { Sample } from './file-source.js';
/** The `reason` label of a dropped reading. */
export type DropReason = 'not_a_reading' | 'out_of_range' | 'unavailable';
export type SensorKind = 
/** A w1_therm `w1_slave`; `family` is the 1-Wire family code from the folder (28-0316a2794eff). */
{
    kind: 'w1';
    family: string | undefined;
}
/** A file in millidegrees Celsius: thermal zone, hwmon or IIO temperature. */
 | {
    kind: 'temperature';
} | {
    kind: 'number';
};
/** The DS18B20's (and DS18S20's, DS1822's, DS1825's, DS28EA00's) power-on scratchpad value. */
export declare const W1_POWER_ON_MILLIC = 85000;
/** An 85 °C reading is taken when the previous accepted one was this close to it. */
export declare const W1_POWER_ON_NEAR_MILLIC = 10000;
/** 0 K: no temperature file can read below it (ACPI's "0 dK" reads -273200, the kernel's THERMAL_TEMP_INVALID -274000). */
export declare const ABSOLUTE_ZERO_MILLIC = -273150;
/**
 * Details reasons (`err.info.reason`) that mean the sensor answered with something that is
 * not a reading: dropped, retried on the next poll without backoff, reported once per streak.
 * Transient errnos count here: a thermal zone or IIO driver answers EAGAIN/EBUSY/ENODATA while
 * its device is busy or has no sample yet.
 */
export declare const NOT_A_READING: Set<string>;
export declare function sensorKindOf(path: string, format: 'number' | 'w1'): SensorKind;
export interface NonReading {
    /** The specific rule (a `NOT_A_READING` member), for the log and `err.info.reason`. */
    reason: string;
    message: string;
}
/**
 * Whether a parsed sample is a known non-reading. `previousRaw` is the raw value of the last
 * reading accepted since the sensor last failed (undefined after a failure or at start): the
 * 85 °C rule needs it. Rules:
 * - w1: t=85000 is the power-on value unless the previous accepted reading was within 10 °C
 *   of 85 °C (then it is a real 85 °C); t outside the family's datasheet range is a bus fault.
 * - temperature files: below absolute zero (sentinels -273200, -274000, INT_MIN).
 */
export declare function nonReading(kind: SensorKind, sample: Sample, previousRaw: number | undefined): NonReading | undefined;

import { LambkinError } from '../../../src/errors.js';
import type { ReadFile } from './types.js';
export interface Sample {
    /** The number in the file. */
    raw: number;
    /** raw after the IIO offset and scale (raw itself for other files). */
    scaled: number;
}
export interface FileSourceOptions {
    sensor: string;
    path: string;
    format: 'number' | 'w1';
    readFile: ReadFile;
}
/**
 * errnos a sensor read answers while the device is busy or has no sample yet (thermal zone
 * drivers: EAGAIN, ENODATA; IIO: EBUSY, EAGAIN): not a fault, the next poll may read fine.
 */
export declare const TRANSIENT_ERRNOS: ReadonlySet<string>;
export declare function sensorError(sensor: string, path: string, reason: string, message: string, cause?: unknown, errno?: string): LambkinError;
/** in_voltage0_raw -> { channel: 'voltage0', type: 'voltage', kind: 'raw' }. */
export declare function iioChannel(file: string): {
    channel: string;
    type: string;
    kind: 'raw' | 'input';
} | undefined;
export declare function readFileSample(o: FileSourceOptions): Promise<Sample>;

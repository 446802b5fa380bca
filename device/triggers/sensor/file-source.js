// Reads one sample from a sensor file. IIO in_<channel>_raw values get their sibling
// in_*_offset added and are multiplied by in_<channel>_scale (or the type-wide in_<type>_scale),
// as the kernel's IIO ABI defines; in_*_input values are already processed and taken as they
// are (the manifest's own `scale` still applies to both). Errors become
// LAMBKIN_SENSOR_UNAVAILABLE naming the sensor, the file and what to check.
import { basename, dirname, join } from 'node:path';
import { ErrorCodes, LambkinError } from '../../../src/errors.js';
import { parseNumber, parseW1, UnreadableSample } from './parse.js';
function errnoOf(err) {
    const code = err?.code;
    return typeof code === 'string' ? code : undefined;
}
/**
 * errnos a sensor read answers while the device is busy or has no sample yet (thermal zone
 * drivers: EAGAIN, ENODATA; IIO: EBUSY, EAGAIN): not a fault, the next poll may read fine.
 */
export const TRANSIENT_ERRNOS = new Set(['EAGAIN', 'EBUSY', 'ENODATA', 'EINTR']);
function advice(code) {
    if (code !== undefined && TRANSIENT_ERRNOS.has(code))
        return 'the device had no reading ready (busy or still converting); it is read again on the next poll';
    switch (code) {
        case 'ENOENT':
        case 'ENOTDIR':
            return 'the file does not exist: check the path, that the device is connected and that its driver or overlay is loaded';
        case 'EACCES':
        case 'EPERM':
            return 'permission denied: run the agent as a user that may read it (e.g. in the i2c/gpio group) or fix the file mode';
        case 'EISDIR':
            return 'the path is a folder: point it at the value file inside (e.g. .../temp or .../w1_slave)';
        case 'EIO':
        case 'ENODEV':
        case 'ENXIO':
        case 'ETIMEDOUT':
            return 'the device did not answer: check its wiring and power';
        default:
            return 'the file could not be read';
    }
}
export function sensorError(sensor, path, reason, message, cause, errno) {
    return new LambkinError(ErrorCodes.SENSOR_UNAVAILABLE, `sensor "${sensor}" (${path}): ${message}`, { cause, details: { sensor, path, reason, ...(errno === undefined ? {} : { errno }) } });
}
async function readText(o, file) {
    try {
        return await o.readFile(file);
    }
    catch (err) {
        const code = errnoOf(err);
        const reason = code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : code === 'EACCES' || code === 'EPERM' ? 'permission' : code !== undefined && TRANSIENT_ERRNOS.has(code) ? 'not_ready' : 'unreadable';
        throw sensorError(o.sensor, o.path, reason, `${file === o.path ? '' : `reading ${file}: `}${advice(code)}${code === undefined ? ` (${err?.message ?? String(err)})` : ` (${code})`}`, err, code);
    }
}
/** The value of the first of these sibling files that exists, or undefined if none does. */
async function readOptional(o, files) {
    for (const file of files) {
        let text;
        try {
            text = await o.readFile(file);
        }
        catch (err) {
            if (errnoOf(err) === 'ENOENT')
                continue;
            throw sensorError(o.sensor, o.path, 'unreadable', `reading ${file}: ${advice(errnoOf(err))}`, err, errnoOf(err));
        }
        try {
            return parseNumber(text);
        }
        catch (err) {
            throw sensorError(o.sensor, o.path, 'unparseable', `${file}: ${err.message}`, err);
        }
    }
    return undefined;
}
/** in_voltage0_raw -> { channel: 'voltage0', type: 'voltage', kind: 'raw' }. */
export function iioChannel(file) {
    const m = /^in_(.+)_(raw|input)$/.exec(file);
    if (m === null)
        return undefined;
    const type = /^[a-z]+/.exec(m[1])?.[0] ?? m[1];
    return { channel: m[1], type, kind: m[2] };
}
function siblings(dir, iio, info) {
    return [...new Set([`in_${iio.channel}_${info}`, `in_${iio.type}_${info}`])].map((n) => join(dir, n));
}
export async function readFileSample(o) {
    const text = await readText(o, o.path);
    let raw;
    try {
        raw = o.format === 'w1' ? parseW1(text) : parseNumber(text);
    }
    catch (err) {
        const reason = err instanceof UnreadableSample ? err.reason : 'unparseable';
        throw sensorError(o.sensor, o.path, reason, `${err.message}; the sample was skipped`, err);
    }
    const iio = iioChannel(basename(o.path));
    // An _input value is already processed by the driver (sysfs-bus-iio: "units after
    // application of scale and offset"); applying in_*_scale again would be wrong by that factor.
    if (iio === undefined || iio.kind === 'input')
        return { raw, scaled: raw };
    const dir = dirname(o.path);
    const offset = (await readOptional(o, siblings(dir, iio, 'offset'))) ?? 0;
    const scale = (await readOptional(o, siblings(dir, iio, 'scale'))) ?? 1;
    return { raw, scaled: (raw + offset) * scale };
}
//# sourceMappingURL=file-source.js.map
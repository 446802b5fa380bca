// Reads one sample from a sensor file. IIO in_<channel>_raw values get their sibling
// in_*_offset added and are multiplied by in_<channel>_scale (or the type-wide in_<type>_scale),
// as the kernel's IIO ABI defines; in_*_input values are already processed and taken as they
// are (the manifest's own `scale` still applies to both). Errors become
// LAMBKIN_SENSOR_UNAVAILABLE naming the sensor, the file and what to check.
import { basename, dirname, join } from 'node:path'
import { ErrorCodes, errorMessage, LambkinError } from '../../../src/errors.js'
import { parseNumber, parseW1, UnreadableSample } from './parse.js'
import type { ReadFile } from './types.js'

export interface Sample {
  /** The number in the file. */
  raw: number
  /** raw after the IIO offset and scale (raw itself for other files). */
  scaled: number
}

export interface FileSourceOptions {
  sensor: string
  path: string
  format: 'number' | 'w1'
  readFile: ReadFile
}

function errnoOf (err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * errnos a sensor read answers while the device is busy or has no sample yet (thermal zone
 * drivers: EAGAIN, ENODATA; IIO: EBUSY, EAGAIN): not a fault, the next poll may read fine.
 */
export const TRANSIENT_ERRNOS: ReadonlySet<string> = new Set(['EAGAIN', 'EBUSY', 'ENODATA', 'EINTR'])

function advice (code: string | undefined): string {
  if (code !== undefined && TRANSIENT_ERRNOS.has(code)) return 'the device had no reading ready (busy or still converting); it is read again on the next poll'
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'the file does not exist: check the path, that the device is connected and that its driver or overlay is loaded'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied: run the agent as a user that may read it (e.g. in the i2c/gpio group) or fix the file mode'
    case 'EISDIR':
      return 'the path is a folder: point it at the value file inside (e.g. .../temp or .../w1_slave)'
    case 'EIO':
    case 'ENODEV':
    case 'ENXIO':
    case 'ETIMEDOUT':
      return 'the device did not answer: check its wiring and power'
    default:
      return 'the file could not be read'
  }
}

export function sensorError (sensor: string, path: string, reason: string, message: string, cause?: unknown, errno?: string): LambkinError {
  return new LambkinError(ErrorCodes.SENSOR_UNAVAILABLE, `sensor "${sensor}" (${path}): ${message}`, { cause, details: { sensor, path, reason, ...(errno === undefined ? {} : { errno }) } })
}

async function readText (o: FileSourceOptions, file: string): Promise<string> {
  try {
    return await o.readFile(file)
  } catch (err) {
    const code = errnoOf(err)
    const reason = code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : code === 'EACCES' || code === 'EPERM' ? 'permission' : code !== undefined && TRANSIENT_ERRNOS.has(code) ? 'not_ready' : 'unreadable'
    throw sensorError(o.sensor, o.path, reason, `${file === o.path ? '' : `reading ${file}: `}${advice(code)}${code === undefined ? ` (${(err as Error)?.message ?? String(err)})` : ` (${code})`}`, err, code)
  }
}

/** The value of the first of these sibling files that exists, or undefined if none does. */
async function readOptional (o: FileSourceOptions, files: string[]): Promise<number | undefined> {
  for (const file of files) {
    let text: string
    try {
      text = await o.readFile(file)
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') continue
      throw sensorError(o.sensor, o.path, 'unreadable', `reading ${file}: ${advice(errnoOf(err))}`, err, errnoOf(err))
    }
    try {
      return parseNumber(text)
    } catch (err) {
      throw sensorError(o.sensor, o.path, 'unparseable', `${file}: ${errorMessage(err)}`, err)
    }
  }
  return undefined
}

/** in_voltage0_raw -> { channel: 'voltage0', type: 'voltage', kind: 'raw' }. */
export function iioChannel (file: string): { channel: string, type: string, kind: 'raw' | 'input' } | undefined {
  const m = /^in_(.+)_(raw|input)$/.exec(file)
  if (m === null) return undefined
  const type = /^[a-z]+/.exec(m[1])?.[0] ?? m[1]
  return { channel: m[1], type, kind: m[2] as 'raw' | 'input' }
}

function siblings (dir: string, iio: { channel: string, type: string }, info: 'scale' | 'offset'): string[] {
  return [...new Set([`in_${iio.channel}_${info}`, `in_${iio.type}_${info}`])].map((n) => join(dir, n))
}

export async function readFileSample (o: FileSourceOptions): Promise<Sample> {
  const text = await readText(o, o.path)
  let raw: number
  try {
    raw = o.format === 'w1' ? parseW1(text) : parseNumber(text)
  } catch (err) {
    const reason = err instanceof UnreadableSample ? err.reason : 'unparseable'
    throw sensorError(o.sensor, o.path, reason, `${errorMessage(err)}; the sample was skipped`, err)
  }
  const iio = iioChannel(basename(o.path))
  // An _input value is already processed by the driver (sysfs-bus-iio: "units after
  // application of scale and offset"); applying in_*_scale again would be wrong by that factor.
  if (iio === undefined || iio.kind === 'input') return { raw, scaled: raw }
  const dir = dirname(o.path)
  const offset = (await readOptional(o, siblings(dir, iio, 'offset'))) ?? 0
  const scale = (await readOptional(o, siblings(dir, iio, 'scale'))) ?? 1
  return { raw, scaled: (raw + offset) * scale }
}

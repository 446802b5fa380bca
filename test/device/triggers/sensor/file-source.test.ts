// Reading samples from sysfs-style files in a temp folder: thermal zones, IIO channels with
// sibling scale/offset files, 1-Wire, and the errors a user sees when a sensor is not there.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { iioChannel, readFileSample } from '../../../../device/triggers/sensor/index.js'
import type { ReadFile } from '../../../../device/triggers/sensor/index.js'
import { LambkinError } from '../../../../src/errors.js'

let dir = ''
const read: ReadFile = async (p) => await readFile(p, 'utf8')

const put = (rel: string, text: string): string => {
  const file = path.join(dir, rel)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
  return file
}

const failure = async (p: Promise<unknown>): Promise<LambkinError> => {
  try {
    await p
  } catch (err) {
    assert.instance(err, LambkinError)
    return err as LambkinError
  }
  throw new Error('expected the read to fail')
}

test.before.each(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-'))
})

test.after.each(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a thermal zone is a plain number (scaling is the manifest\'s job)', async () => {
  const file = put('thermal_zone0/temp', '48312\n')
  assert.equal(await readFileSample({ sensor: 'cpu', path: file, format: 'number', readFile: read }), { raw: 48312, scaled: 48312 })
})

test('IIO: the channel\'s own scale wins over the type-wide one; _raw adds the offset first', async () => {
  const raw = put('iio:device0/in_voltage0_raw', '1000\n')
  put('iio:device0/in_voltage_scale', '0.5\n')
  assert.equal(await readFileSample({ sensor: 'v', path: raw, format: 'number', readFile: read }), { raw: 1000, scaled: 500 })
  put('iio:device0/in_voltage0_scale', '2\n')
  put('iio:device0/in_voltage0_offset', '-100\n')
  assert.equal(await readFileSample({ sensor: 'v', path: raw, format: 'number', readFile: read }), { raw: 1000, scaled: 1800 })
})

test('IIO: an _input channel is already in the driver\'s units; sibling scale and offset are not applied again', async () => {
  const input = put('iio:device1/in_temp_input', '23500\n')
  assert.equal(await readFileSample({ sensor: 't', path: input, format: 'number', readFile: read }), { raw: 23500, scaled: 23500 })
  put('iio:device1/in_temp_scale', '0.001\n')
  put('iio:device1/in_temp_offset', '1000\n')
  assert.equal(await readFileSample({ sensor: 't', path: input, format: 'number', readFile: read }), { raw: 23500, scaled: 23500 })
  // Even a garbage sibling cannot fail an _input sample: it is never read.
  put('iio:device1/in_temp_scale', 'fast\n')
  assert.equal(await readFileSample({ sensor: 't', path: input, format: 'number', readFile: read }), { raw: 23500, scaled: 23500 })
})

test('IIO: a scale file with garbage fails the sample and names that file', async () => {
  const raw = put('iio:device0/in_accel_x_raw', '12\n')
  put('iio:device0/in_accel_scale', 'fast\n')
  const err = await failure(readFileSample({ sensor: 'acc', path: raw, format: 'number', readFile: read }))
  assert.is(err.code, 'LAMBKIN_SENSOR_UNAVAILABLE')
  assert.ok(err.message.includes('in_accel_scale'), err.message)
})

test('iioChannel() splits channel and type', () => {
  assert.equal(iioChannel('in_voltage0_raw'), { channel: 'voltage0', type: 'voltage', kind: 'raw' })
  assert.equal(iioChannel('in_accel_x_raw'), { channel: 'accel_x', type: 'accel', kind: 'raw' })
  assert.equal(iioChannel('in_temp_input'), { channel: 'temp', type: 'temp', kind: 'input' })
  assert.is(iioChannel('temp'), undefined)
})

test('1-Wire files parse as w1; CRC NO fails the sample with reason crc', async () => {
  const file = put('28-0316a2794eff/w1_slave', '72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n')
  assert.equal(await readFileSample({ sensor: 'tank', path: file, format: 'w1', readFile: read }), { raw: 23125, scaled: 23125 })
  put('28-0316a2794eff/w1_slave', '72 01 4b 46 7f ff 0e 10 57 : crc=12 NO\n72 01 4b 46 7f ff 0e 10 57 t=23125\n')
  const err = await failure(readFileSample({ sensor: 'tank', path: file, format: 'w1', readFile: read }))
  assert.is(err.code, 'LAMBKIN_SENSOR_UNAVAILABLE')
  assert.equal(err.details, { sensor: 'tank', path: file, reason: 'crc' })
})

test('a missing file is LAMBKIN_SENSOR_UNAVAILABLE naming sensor, path and what to check', async () => {
  const file = path.join(dir, 'thermal_zone9/temp')
  const err = await failure(readFileSample({ sensor: 'cpu', path: file, format: 'number', readFile: read }))
  assert.is(err.code, 'LAMBKIN_SENSOR_UNAVAILABLE')
  assert.equal(err.details, { sensor: 'cpu', path: file, reason: 'missing', errno: 'ENOENT' })
  assert.ok(err.message.includes('"cpu"') && err.message.includes(file) && err.message.includes('driver'), err.message)
})

test('permission denied and a folder path say what to do', async () => {
  // Tests may run as root, where chmod 000 does not stop a read, so the denial is injected.
  const file = put('hwmon0/temp1_input', '40000\n')
  const denied: ReadFile = async (p) => {
    if (p === file) throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES' })
    return await read(p)
  }
  const err = await failure(readFileSample({ sensor: 'board', path: file, format: 'number', readFile: denied }))
  assert.is(err.details.reason, 'permission')
  assert.ok(err.message.includes('permission denied'), err.message)
  const folder = await failure(readFileSample({ sensor: 'board', path: path.dirname(file), format: 'number', readFile: read }))
  assert.is(folder.details.errno, 'EISDIR')
  assert.ok(folder.message.includes('folder'), folder.message)
})

test('garbage in the file fails the sample as unparseable', async () => {
  const file = put('thermal_zone0/temp', 'unavailable\n')
  const err = await failure(readFileSample({ sensor: 'cpu', path: file, format: 'number', readFile: read }))
  assert.is(err.details.reason, 'unparseable')
  assert.ok(err.message.includes('"unavailable"'), err.message)
})

test.run()

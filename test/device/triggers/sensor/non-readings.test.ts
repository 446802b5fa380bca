// Known non-readings of each sensor kind and the trigger's `valid` range, over sysfs-style
// files in a temp folder: dropped (never delivered), counted in
// lambkin_sensor_readings_dropped_total, reported once per streak, read again at everyMs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { SensorPoller, nonReading, sensorKindOf } from '../../../../device/triggers/index.js'
import { FakeClock } from '../../../helpers/fake-clock.js'
import type { SensorEvent, SensorSpec, SensorTriggerOptions } from '../../../../device/triggers/index.js'
import { FunctionMetrics } from '../../../../device/metrics/index.js'
import type { LambkinError } from '../../../../src/errors.js'

let dir = ''
test.before.each(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-')) })
test.after.each(() => { fs.rmSync(dir, { recursive: true, force: true }) })

const write = (rel: string, text: string): string => {
  const file = path.join(dir, rel)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
  return file
}

/** A w1_slave file as the kernel's w1_therm writes it. */
const w1 = (pad: string, verdict: 'YES' | 'NO', t: number): string => `${pad} : crc=${pad.slice(-2)} ${verdict}\n${pad} t=${t}\n`
const DS18B20 = '28-0316a2794eff/w1_slave'
const GOOD_23 = w1('72 01 4b 46 7f ff 0e 10 57', 'YES', 23125)
const POWER_ON = w1('50 05 4b 46 7f ff 0c 10 1c', 'YES', 85000)

interface Rig { clock: FakeClock, events: SensorEvent[], errors: LambkinError[], readsAt: number[], metrics: FunctionMetrics, trigger: SensorPoller }

function rig (spec: SensorSpec, opts: Partial<SensorTriggerOptions> = {}): Rig {
  const clock = new FakeClock(0)
  const events: SensorEvent[] = []
  const errors: LambkinError[] = []
  const readsAt: number[] = []
  const metrics = new FunctionMetrics({ clock })
  const trigger = new SensorPoller(spec, {
    clock,
    metrics,
    functionName: 'tank-alarm',
    onEvent: (e) => { events.push(e) },
    onError: (err) => errors.push(err),
    readFile: async (p) => {
      if (p === spec.path) readsAt.push(clock.now())
      return await readFile(p, 'utf8')
    },
    ...opts
  })
  return { clock, events, errors, readsAt, metrics, trigger }
}

const dropped = (r: Rig, reason: string): number => {
  const line = r.metrics.toPrometheus().split('\n').find((l) => l.startsWith('lambkin_sensor_readings_dropped_total{') && l.includes(`reason="${reason}"`))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}
const values = (r: Rig): number[] => r.events.map((e) => e.value)

test('[w1] a DS18B20 power-on value (t=85000, good CRC) as the first reading is dropped, counted, logged once, and read again at everyMs', async () => {
  const file = write(DS18B20, POWER_ON)
  const r = rig({ sensor: 'tank', path: file, scale: 0.001, everyMs: 1000 })
  r.trigger.start()
  await r.clock.advance(1000)
  assert.equal(values(r), [], '85 °C at power-up is not delivered')
  assert.equal(r.readsAt, [0, 1000], 'no backoff: the sensor answered')
  assert.equal(r.errors.map((e) => [e.code, e.details.reason, e.details.drop]), [['LAMBKIN_SENSOR_UNAVAILABLE', 'power_on_reset', 'not_a_reading']])
  assert.ok(r.errors[0].message.includes('power-on'), r.errors[0].message)
  assert.is(dropped(r, 'not_a_reading'), 2)
  assert.ok(r.metrics.toPrometheus().includes('lambkin_sensor_readings_dropped_total{function="tank-alarm",sensor="tank",reason="not_a_reading"} 2'))
  write(DS18B20, GOOD_23)
  await r.clock.advance(1000)
  assert.equal(values(r), [23.125])
  assert.equal(r.trigger.stats(), { reads: 1, fired: 1, errors: 0, consecutiveErrors: 0, dropped: 2 })
  await r.trigger.stop()
})

test('[w1] 85 °C is taken when the previous reading was within 10 °C of it, dropped after a far one or after a failed read', async () => {
  const file = write(DS18B20, w1('c0 04 4b 46 7f ff 10 10 00', 'YES', 76000))
  const r = rig({ sensor: 'boiler', path: file, scale: 0.001 })
  r.trigger.start()
  await r.clock.advance(0)
  write(DS18B20, POWER_ON)
  await r.clock.advance(1000)
  assert.equal(values(r), [76, 85], 'a boiler heating through 76 °C really reaches 85 °C')
  write(DS18B20, GOOD_23)
  await r.clock.advance(1000)
  write(DS18B20, POWER_ON)
  await r.clock.advance(1000)
  assert.equal(values(r), [76, 85, 23.125], 'a jump from 23 °C to exactly 85 °C is the power-on value')
  // Unplugged (the w1 folder goes away) and back: the first 85 °C is again a power-on value.
  write(DS18B20, w1('c0 04 4b 46 7f ff 10 10 00', 'YES', 84000))
  await r.clock.advance(1000)
  fs.rmSync(file)
  await r.clock.advance(1000)
  write(DS18B20, POWER_ON)
  await r.clock.advance(2000)
  assert.equal(values(r), [76, 85, 23.125, 84])
  assert.equal([dropped(r, 'not_a_reading'), dropped(r, 'unavailable')], [2, 1])
  await r.trigger.stop()
})

test('[w1] all-zero and all-ones scratchpads, t= beyond the datasheet range and CRC NO are dropped; a streak is logged once', async () => {
  const cases: Array<[string, string]> = [
    [w1('00 00 00 00 00 00 00 00 00', 'YES', 0), 'all_zero'],
    [w1('ff ff ff ff ff ff ff ff ff', 'NO', -62), 'all_ones'],
    [w1('ff 07 4b 46 7f ff 01 10 2f', 'YES', 127937), 'beyond_sensor_range'],
    [w1('72 01 4b 46 7f ff 0e 10 57', 'NO', 23125), 'crc']
  ]
  for (const [text, reason] of cases) {
    const file = write(DS18B20, text)
    const r = rig({ sensor: 'tank', path: file, scale: 0.001 })
    r.trigger.start()
    await r.clock.advance(2000)
    assert.equal(values(r), [], reason)
    assert.equal(r.readsAt, [0, 1000, 2000], `${reason}: read again at everyMs`)
    assert.equal(r.errors.map((e) => e.details.reason), [reason], `${reason}: one report for a streak of three`)
    assert.is(dropped(r, 'not_a_reading'), 3, reason)
    write(DS18B20, GOOD_23)
    await r.clock.advance(1000)
    assert.equal(values(r), [23.125], reason)
    await r.trigger.stop()
  }
})

test('[thermal] a zone reading below absolute zero (-273200 from ACPI, -274000 THERMAL_TEMP_INVALID, INT_MIN) is dropped', async () => {
  for (const sentinel of ['-273200', '-274000', '-2147483648']) {
    const file = write('thermal_zone0/temp', `${sentinel}\n`)
    const r = rig({ sensor: 'cpu', path: file, scale: 0.001 })
    r.trigger.start()
    await r.clock.advance(0)
    write('thermal_zone0/temp', '-20500\n')
    await r.clock.advance(1000)
    assert.equal(values(r), [-20.5], sentinel)
    assert.equal(r.errors.map((e) => e.details.reason), ['below_absolute_zero'], sentinel)
    assert.is(dropped(r, 'not_a_reading'), 1)
    await r.trigger.stop()
  }
  const hwmon = write('hwmon1/temp1_input', '-274000\n')
  const h = rig({ sensor: 'board', path: hwmon, scale: 0.001 })
  h.trigger.start()
  await h.clock.advance(0)
  assert.equal([values(h), h.errors.map((e) => e.details.reason)], [[], ['below_absolute_zero']])
  await h.trigger.stop()
})

test('[thermal, IIO] a busy or not-ready driver (EAGAIN, ENODATA, EBUSY) is a dropped reading read again at everyMs, not a failure with backoff', async () => {
  const file = write('iio:device0/in_voltage0_raw', '2048\n')
  let errno: string | undefined = 'EBUSY'
  const r = rig({ sensor: 'adc', path: file }, {
    readFile: async (p) => {
      if (p === file) r.readsAt.push(r.clock.now())
      if (p === file && errno !== undefined) throw Object.assign(new Error(`${errno}: resource busy, read`), { code: errno })
      return await readFile(p, 'utf8')
    }
  })
  r.trigger.start()
  await r.clock.advance(1000)
  errno = 'EAGAIN'
  await r.clock.advance(1000)
  errno = 'ENODATA'
  await r.clock.advance(1000)
  errno = undefined
  await r.clock.advance(1000)
  assert.equal(r.readsAt, [0, 1000, 2000, 3000, 4000])
  assert.equal(values(r), [2048])
  assert.equal(r.errors.map((e) => [e.details.reason, e.details.errno]), [['not_ready', 'EBUSY']])
  assert.equal([dropped(r, 'not_a_reading'), dropped(r, 'unavailable')], [4, 0])
  assert.is(r.trigger.stats().errors, 0)
  await r.trigger.stop()
})

test('[valid] readings outside valid (after scale, bounds included) are dropped and counted as out_of_range, logged once per streak', async () => {
  const file = write('thermal_zone0/temp', '40000\n')
  const r = rig({ sensor: 'cpu', path: file, scale: 0.001, valid: { min: -40, max: 125 } })
  r.trigger.start()
  await r.clock.advance(0)
  for (const v of ['130000', '125001', '125000', '-40000', '-40001', '-41000', '45000']) {
    write('thermal_zone0/temp', `${v}\n`)
    await r.clock.advance(1000)
  }
  assert.equal(values(r), [40, 125, -40, 45])
  assert.equal(r.errors.map((e) => [e.details.reason, e.details.raw]), [['out_of_range', 130000], ['out_of_range', -40001]])
  assert.equal([dropped(r, 'out_of_range'), r.trigger.stats().dropped], [4, 4])
  assert.equal(r.readsAt, [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000])
  await r.trigger.stop()
})

test('sensor kinds come from kernel file names; a number file other than a temperature has no sentinel', () => {
  assert.equal(sensorKindOf('/sys/bus/w1/devices/28-0316a2794eff/w1_slave', 'w1'), { kind: 'w1', family: '28' })
  assert.equal(sensorKindOf('/tmp/w1_slave', 'w1'), { kind: 'w1', family: undefined })
  assert.equal(sensorKindOf('/sys/class/thermal/thermal_zone0/temp', 'number'), { kind: 'temperature' })
  assert.equal(sensorKindOf('/sys/class/hwmon/hwmon0/temp2_input', 'number'), { kind: 'temperature' })
  assert.equal(sensorKindOf('/sys/bus/iio/devices/iio:device0/in_temp_raw', 'number'), { kind: 'temperature' })
  assert.equal(sensorKindOf('/sys/bus/iio/devices/iio:device0/in_voltage0_raw', 'number'), { kind: 'number' })
  assert.is(nonReading({ kind: 'number' }, { raw: -300000, scaled: -300000 }, undefined), undefined)
  assert.is(nonReading({ kind: 'w1', family: '3b' }, { raw: 300000, scaled: 300000 }, undefined), undefined, 'family 3b may be a MAX31850 thermocouple: no range')
  assert.is(nonReading({ kind: 'w1', family: '42' }, { raw: 86000, scaled: 86000 }, 85000)?.reason, 'beyond_sensor_range')
})

test.run()

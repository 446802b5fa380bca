// Sensor triggers on a FakeClock over real files in a temp folder: cadence, deadband, scale,
// errors with backoff and throttled reports, recovery, slow handlers, stop(), simulations.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { SensorPoller } from '../../../../device/triggers/index.js'
import { FakeClock } from '../../../helpers/fake-clock.js'
import type { SensorEvent, SensorSpec, SensorTriggerOptions } from '../../../../device/triggers/index.js'
import { LambkinError } from '../../../../src/errors.js'

let dir = ''
test.before.each(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-')) })
test.after.each(() => { fs.rmSync(dir, { recursive: true, force: true }) })

const write = (rel: string, text: string): string => {
  const file = path.join(dir, rel)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
  return file
}

interface Rig { clock: FakeClock, events: SensorEvent[], errors: LambkinError[], readsAt: number[], trigger: SensorPoller }

function rig (spec: SensorSpec, opts: Partial<SensorTriggerOptions> = {}): Rig {
  const clock = new FakeClock(0)
  const events: SensorEvent[] = []
  const errors: LambkinError[] = []
  const readsAt: number[] = []
  const trigger = new SensorPoller(spec, {
    clock,
    onEvent: (e) => { events.push(e) },
    onError: (err) => errors.push(err),
    // Real files; the wrapper only notes when each read happened.
    readFile: async (p) => {
      if (path.basename(p) === path.basename(spec.path)) readsAt.push(clock.now())
      return await readFile(p, 'utf8')
    },
    ...opts
  })
  return { clock, events, errors, readsAt, trigger }
}

test('a thermal zone is read every everyMs, scaled to degrees, and fires past the deadband only', async () => {
  const file = write('thermal_zone0/temp', '48312\n')
  const r = rig({ sensor: 'cpu-temp', path: file, everyMs: 1000, scale: 0.001, deadband: 0.5 })
  r.trigger.start()
  await r.clock.advance(0)
  assert.equal(r.events, [{ source: 'sensor', sensor: 'cpu-temp', time: 0, value: 48.312, raw: 48312 }])
  write('thermal_zone0/temp', '48700\n')
  await r.clock.advance(1000)
  assert.is(r.events.length, 1, 'a 0.388 move is inside the deadband')
  write('thermal_zone0/temp', '48812\n')
  await r.clock.advance(1000)
  assert.equal(r.events.map((e) => [e.time, e.value]), [[0, 48.312], [2000, 48.812]], 'exactly the deadband fires')
  write('thermal_zone0/temp', '48400\n')
  await r.clock.advance(1000)
  assert.is(r.events.length, 2, 'measured from the last fired value, not the last read')
  write('thermal_zone0/temp', '48300\n')
  await r.clock.advance(1000)
  assert.equal(r.events.map((e) => e.value), [48.312, 48.812, 48.3])
  assert.equal(r.readsAt, [0, 1000, 2000, 3000, 4000])
  assert.equal(r.trigger.stats(), { reads: 5, fired: 3, errors: 0, consecutiveErrors: 0, dropped: 0 })
  await r.trigger.stop()
})

test('deadband 0 fires on every change and never on an identical value', async () => {
  const file = write('hwmon0/temp1_input', '40000\n')
  const r = rig({ sensor: 'board', path: file })
  r.trigger.start()
  await r.clock.advance(0)
  await r.clock.advance(1000)
  write('hwmon0/temp1_input', '40001\n')
  await r.clock.advance(1000)
  await r.clock.advance(1000)
  write('hwmon0/temp1_input', '40000\n')
  await r.clock.advance(1000)
  assert.equal(r.events.map((e) => e.value), [40000, 40001, 40000])
  assert.is(r.trigger.stats().reads, 5)
  await r.trigger.stop()
})

test('IIO and 1-Wire through the trigger: sibling scale, then the manifest scale; CRC NO skips the sample', async () => {
  const raw = write('iio:device0/in_voltage0_raw', '2048\n')
  write('iio:device0/in_voltage_scale', '0.805664062\n')
  const v = rig({ sensor: 'adc', path: raw, scale: 0.001 })
  v.trigger.start()
  await v.clock.advance(0)
  assert.equal(v.events.map((e) => [e.raw, e.value]), [[2048, 1.64999999898]])
  await v.trigger.stop()

  const w1 = write('28-0316a2794eff/w1_slave', '72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n')
  const t = rig({ sensor: 'tank', path: w1, scale: 0.001 })
  t.trigger.start()
  await t.clock.advance(0)
  write('28-0316a2794eff/w1_slave', '72 01 4b 46 7f ff 0e 10 57 : crc=00 NO\n72 01 4b 46 7f ff 0e 10 57 t=85000\n')
  await t.clock.advance(1000)
  write('28-0316a2794eff/w1_slave', '73 01 4b 46 7f ff 0d 10 41 : crc=41 YES\n73 01 4b 46 7f ff 0d 10 41 t=23187\n')
  await t.clock.advance(2000)
  assert.equal(t.events.map((e) => e.value), [23.125, 23.187])
  assert.equal(t.errors.map((e) => e.details.reason), ['crc'])
  await t.trigger.stop()
})

test('a missing sensor is reported once, retried with backoff up to a minute, reported again at most once a minute', async () => {
  const file = path.join(dir, 'thermal_zone0/temp')
  const r = rig({ sensor: 'cpu-temp', path: file, everyMs: 1000, scale: 0.001, deadband: 5 })
  r.trigger.start()
  await r.clock.advance(0)
  assert.is(r.errors.length, 1)
  assert.is(r.errors[0].code, 'LAMBKIN_SENSOR_UNAVAILABLE')
  assert.equal({ sensor: r.errors[0].details.sensor, path: r.errors[0].details.path, reason: r.errors[0].details.reason }, { sensor: 'cpu-temp', path: file, reason: 'missing' })
  await r.clock.advance(182_000)
  // Reads at 0, then 2 s, 4 s, 8 s, 16 s, 32 s apart, then every 60 s.
  assert.equal(r.readsAt, [0, 2000, 6000, 14_000, 30_000, 62_000, 122_000, 182_000])
  assert.equal(r.errors.map((e) => e.details.consecutiveErrors), [1, 6, 7, 8], r.errors.map((e) => e.message).join('\n'))
  assert.is(r.errors[1].details.suppressed, 4)
  assert.ok(r.errors[1].message.includes('4 more failed reads'), r.errors[1].message)
  assert.equal(r.trigger.stats(), { reads: 0, fired: 0, errors: 8, consecutiveErrors: 8, dropped: 0 })
  assert.is(r.events.length, 0)
  await r.trigger.stop()
})

test('a sensor that comes back fires its first good reading (even inside the deadband) and returns to everyMs', async () => {
  const file = write('thermal_zone0/temp', '40000\n')
  const r = rig({ sensor: 'cpu-temp', path: file, everyMs: 1000, scale: 0.001, deadband: 5 })
  r.trigger.start()
  await r.clock.advance(0)
  fs.rmSync(file)
  await r.clock.advance(1000)
  await r.clock.advance(2000)
  assert.equal(r.trigger.stats().consecutiveErrors, 2)
  write('thermal_zone0/temp', '40100\n')
  await r.clock.advance(4000)
  await r.clock.advance(1000)
  assert.equal(r.readsAt, [0, 1000, 3000, 7000, 8000])
  assert.equal(r.events.map((e) => [e.time, e.value]), [[0, 40], [7000, 40.1]])
  assert.equal(r.trigger.stats(), { reads: 3, fired: 2, errors: 2, consecutiveErrors: 0, dropped: 0 })
  assert.is(r.errors.length, 1, 'the second failure was within a minute of the first report')
  await r.trigger.stop()
})

test('a slow handler holds the next poll: no reads pile up behind it', async () => {
  const file = write('thermal_zone0/temp', '1\n')
  let clock: FakeClock | undefined
  let value = 1
  let inHandler = 0
  let overlapped = false
  const r = rig({ sensor: 's', path: file, everyMs: 1000 }, {
    onEvent: async (e) => {
      r.events.push(e)
      if (inHandler++ > 0) overlapped = true
      // Each handler run takes 3.5 s of fake time; the next value is ready when it ends.
      await new Promise<void>((resolve) => clock?.setTimeout(resolve, 3500))
      write('thermal_zone0/temp', `${++value}\n`)
      inHandler--
    }
  })
  clock = r.clock
  r.trigger.start()
  await r.clock.advance(10_000)
  assert.equal(r.readsAt, [0, 3500, 7000])
  assert.equal(r.events.map((e) => e.value), [1, 2, 3])
  assert.is(overlapped, false)
  await r.trigger.stop()
})

test('stop() cancels the next poll and start() again polls at once', async () => {
  const file = write('thermal_zone0/temp', '1\n')
  const r = rig({ sensor: 's', path: file })
  r.trigger.start()
  r.trigger.start()
  await r.clock.advance(1500)
  assert.equal(r.readsAt, [0, 1000])
  await r.trigger.stop()
  assert.is(r.clock.pending(), 0)
  await r.clock.advance(5000)
  assert.equal(r.readsAt, [0, 1000])
  r.trigger.start()
  await r.clock.advance(0)
  assert.equal(r.readsAt, [0, 1000, 6500])
  assert.is(r.events.length, 2, 'a restart fires its first reading again')
  await r.trigger.stop()
})

test('a handler that throws is reported as LAMBKIN_FUNCTION_ERROR and polling goes on', async () => {
  const file = write('thermal_zone0/temp', '1\n')
  let n = 0
  const r = rig({ sensor: 's', path: file }, { onEvent: () => { n++; write('thermal_zone0/temp', `${n + 1}\n`); throw new Error('handler broke') } })
  r.trigger.start()
  await r.clock.advance(2000)
  assert.is(n, 3)
  assert.equal(r.errors.map((e) => e.code), ['LAMBKIN_FUNCTION_ERROR', 'LAMBKIN_FUNCTION_ERROR', 'LAMBKIN_FUNCTION_ERROR'])
  assert.equal(r.trigger.stats().errors, 0, 'handler failures are not sensor failures')
  await r.trigger.stop()
})

test('sim:sine and sim:random-walk go through the same scale and deadband', async () => {
  const sine = rig({ sensor: 'demo', path: 'sim:sine', everyMs: 15_000, scale: 2, sim: { min: 10, max: 20, periodMs: 60_000 } })
  sine.trigger.start()
  await sine.clock.advance(60_000)
  assert.equal(sine.events.map((e) => [e.time, e.raw, e.value]), [[0, 15, 30], [15_000, 20, 40], [30_000, 15, 30], [45_000, 10, 20], [60_000, 15, 30]])
  await sine.trigger.stop()

  const walkA = rig({ sensor: 'demo', path: 'sim:random-walk', deadband: 0.6, sim: { seed: 3 } })
  const walkB = rig({ sensor: 'demo', path: 'sim:random-walk', deadband: 0.6, sim: { seed: 3 } })
  walkA.trigger.start()
  walkB.trigger.start()
  await walkA.clock.advance(60_000)
  await walkB.clock.advance(60_000)
  assert.equal(walkA.events, walkB.events)
  assert.ok(walkA.events.length > 3 && walkA.events.length < 61, `${walkA.events.length} events`)
  for (let i = 1; i < walkA.events.length; i++) assert.ok(Math.abs(walkA.events[i].value - walkA.events[i - 1].value) >= 0.6 - 1e-9)
  assert.is(walkA.trigger.stats().reads, 61)
  await walkA.trigger.stop()
  await walkB.trigger.stop()
})

test('bad specs and options throw naming the key; everyMs is clamped', () => {
  const onEvent = (): void => {}
  const cases: Array<[SensorSpec, Record<string, unknown>, string, string]> = [
    [{ sensor: 'x', path: 'sim:square' }, {}, 'LAMBKIN_MANIFEST_INVALID', 'path'],
    [{ sensor: 'x', path: 'sim:sine', sim: { min: 30, max: 20 } }, {}, 'LAMBKIN_MANIFEST_INVALID', 'sim.min'],
    [{ sensor: 'x', path: '/sys/x', scale: Number.NaN }, {}, 'LAMBKIN_MANIFEST_INVALID', 'scale'],
    [{ sensor: 'x', path: '/sys/x', format: 'csv' as 'number' }, {}, 'LAMBKIN_MANIFEST_INVALID', 'format'],
    [{ sensor: 'x', path: '/sys/x' }, { onEvent: undefined }, 'LAMBKIN_CONFIG_INVALID', 'onEvent'],
    [{ sensor: 'x', path: '/sys/x' }, { clock: {} }, 'LAMBKIN_CONFIG_INVALID', 'clock'],
    [{ sensor: 'x', path: '/sys/x', valid: { min: 125, max: -40 } }, {}, 'LAMBKIN_MANIFEST_INVALID', 'valid.min'],
    [{ sensor: 'x', path: '/sys/x', valid: { max: Number.NaN } }, {}, 'LAMBKIN_MANIFEST_INVALID', 'valid.max'],
    [{ sensor: 'x', path: '/sys/x' }, { metrics: {} }, 'LAMBKIN_CONFIG_INVALID', 'metrics']
  ]
  for (const [spec, opts, code, key] of cases) {
    try {
      // eslint-disable-next-line no-new
      new SensorPoller(spec, { onEvent, ...opts } as never)
      assert.unreachable(`accepted ${JSON.stringify(spec)}`)
    } catch (err) {
      assert.instance(err, LambkinError)
      assert.is((err as LambkinError).code, code)
      assert.is((err as LambkinError).details.key, key)
    }
  }
  assert.is(new SensorPoller({ sensor: 'x', path: '/sys/x', everyMs: 1 }, { onEvent }).intervalMs(), 10)
  assert.is(new SensorPoller({ sensor: 'x', path: '/sys/x' }, { onEvent }).intervalMs(), 1000)
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { triggerKind, validateManifest } from '../../../src/function/index.js'
import type { Trigger } from '../../../src/function/index.js'
import { refusedBy } from './fixtures.js'

const one = (t: unknown): Trigger => validateManifest({ name: 'x', triggers: [t] }).triggers[0]
const refusedTrigger = (t: unknown, key: string): void => { refusedBy(() => validateManifest({ name: 'x', triggers: [{ mqtt: 'ok' }, t] }), key) }

test('mqtt: qos defaults to 1, batch is kept when given', () => {
  assert.equal(one({ mqtt: 'sensors/+/temperature' }), { mqtt: 'sensors/+/temperature', qos: 1 })
  assert.equal(one({ mqtt: '#', qos: 0, batch: { size: 50, windowMs: 200 } }), { mqtt: '#', qos: 0, batch: { size: 50, windowMs: 200 } })
  assert.equal(one({ mqtt: 'a', batch: { size: 10000, windowMs: 60000 } }), { mqtt: 'a', qos: 1, batch: { size: 10000, windowMs: 60000 } })
})

test('mqtt: bad filter, qos, batch are refused naming the key', () => {
  refusedTrigger({ mqtt: 'a/#/b' }, 'triggers[1].mqtt')
  refusedTrigger({ mqtt: '' }, 'triggers[1].mqtt')
  refusedTrigger({ mqtt: 5 }, 'triggers[1].mqtt')
  refusedTrigger({ mqtt: 'a', qos: 2 }, 'triggers[1].qos')
  refusedTrigger({ mqtt: 'a', qos: '1' }, 'triggers[1].qos')
  refusedTrigger({ mqtt: 'a', batch: { size: 0, windowMs: 10 } }, 'triggers[1].batch.size')
  refusedTrigger({ mqtt: 'a', batch: { size: 10001, windowMs: 10 } }, 'triggers[1].batch.size')
  refusedTrigger({ mqtt: 'a', batch: { size: 5 } }, 'triggers[1].batch.windowMs')
  refusedTrigger({ mqtt: 'a', batch: { size: 5, windowMs: 60001 } }, 'triggers[1].batch.windowMs')
  refusedTrigger({ mqtt: 'a', batch: { size: 5, windowMs: 5, max: 1 } }, 'triggers[1].batch.max')
  refusedTrigger({ mqtt: 'a', batch: true }, 'triggers[1].batch')
  refusedTrigger({ mqtt: 'a', everyMs: 100 }, 'triggers[1].everyMs')
})

test('mqtt: a refused filter says which rule it breaks (a 70,000-byte filter is too long, not a wildcard slip)', () => {
  const long = refusedBy(() => validateManifest({ name: 'x', triggers: [{ mqtt: 'a/' + 'b'.repeat(70_000) }] }), 'triggers[0].mqtt')
  assert.match(long.message, /over the 65,535 UTF-8 bytes/)
  assert.not.match(long.message, /"\+" for one whole level/)
  assert.match(refusedBy(() => one({ mqtt: 'a/#/b' }), 'triggers[0].mqtt').message, /misplaced "#"/)
  assert.match(refusedBy(() => one({ mqtt: 'a/\u0001' }), 'triggers[0].mqtt').message, /control character/)
  const grant = refusedBy(() => validateManifest({ name: 'x', permissions: { publish: ['x'.repeat(65_536)] } }), 'permissions.publish[0]')
  assert.match(grant.message, /over the 65,535 UTF-8 bytes/)
})

test('a trigger needs exactly one kind', () => {
  refusedTrigger({}, 'triggers[1]')
  refusedTrigger({ qos: 1 }, 'triggers[1]')
  refusedTrigger({ mqtt: 'a', schedule: '* * * * *' }, 'triggers[1]')
  refusedTrigger('sensors/#', 'triggers[1]')
  refusedTrigger(null, 'triggers[1]')
  refusedBy(() => validateManifest({ name: 'x', triggers: { mqtt: 'a' } }), 'triggers')
})

test('sensor: defaults filled, file and simulated paths accepted', () => {
  assert.equal(one({ sensor: 'cpu-temp', path: '/sys/class/thermal/thermal_zone0/temp' }),
    { sensor: 'cpu-temp', path: '/sys/class/thermal/thermal_zone0/temp', everyMs: 1000, scale: 1, deadband: 0, format: 'auto' })
  assert.equal(one({ sensor: 'w', path: '/sys/bus/w1/devices/28-0/w1_slave', everyMs: 10, scale: -0.001, deadband: 0.5, format: 'w1' }),
    { sensor: 'w', path: '/sys/bus/w1/devices/28-0/w1_slave', everyMs: 10, scale: -0.001, deadband: 0.5, format: 'w1' })
  assert.equal(one({ sensor: 's', path: 'sim:sine', sim: { min: -5, max: 80, periodMs: 30000 } }),
    { sensor: 's', path: 'sim:sine', everyMs: 1000, scale: 1, deadband: 0, format: 'auto', sim: { min: -5, max: 80, periodMs: 30000 } })
  assert.equal((one({ sensor: 's', path: 'sim:random-walk', sim: { step: 0.5, seed: 42 } }) as { sim: unknown }).sim, { step: 0.5, seed: 42 })
})

test('sensor: each bad key is named', () => {
  refusedTrigger({ sensor: 'CPU', path: '/x' }, 'triggers[1].sensor')
  refusedTrigger({ sensor: '', path: '/x' }, 'triggers[1].sensor')
  refusedTrigger({ sensor: 's' }, 'triggers[1].path')
  refusedTrigger({ sensor: 's', path: 'sim:wobble' }, 'triggers[1].path')
  refusedTrigger({ sensor: 's', path: 'relative/temp' }, 'triggers[1].path')
  refusedTrigger({ sensor: 's', path: '/x', everyMs: 9 }, 'triggers[1].everyMs')
  refusedTrigger({ sensor: 's', path: '/x', everyMs: 86_400_001 }, 'triggers[1].everyMs')
  refusedTrigger({ sensor: 's', path: '/x', everyMs: 100.5 }, 'triggers[1].everyMs')
  refusedTrigger({ sensor: 's', path: '/x', scale: '0.001' }, 'triggers[1].scale')
  refusedTrigger({ sensor: 's', path: '/x', scale: Infinity }, 'triggers[1].scale')
  refusedTrigger({ sensor: 's', path: '/x', deadband: -0.1 }, 'triggers[1].deadband')
  refusedTrigger({ sensor: 's', path: '/x', format: 'json' }, 'triggers[1].format')
  refusedTrigger({ sensor: 's', path: '/x', evryMs: 100 }, 'triggers[1].evryMs')
  refusedTrigger({ sensor: 's', path: '/x', sim: { min: 1 } }, 'triggers[1].sim')
  refusedTrigger({ sensor: 's', path: 'sim:sine', sim: { min: 10, max: 5 } }, 'triggers[1].sim.max')
  refusedTrigger({ sensor: 's', path: 'sim:sine', sim: { periodMs: 0 } }, 'triggers[1].sim.periodMs')
  refusedTrigger({ sensor: 's', path: 'sim:sine', sim: { step: -1 } }, 'triggers[1].sim.step')
  refusedTrigger({ sensor: 's', path: 'sim:sine', sim: { seed: 1.5 } }, 'triggers[1].sim.seed')
  refusedTrigger({ sensor: 's', path: 'sim:sine', sim: { noise: 1 } }, 'triggers[1].sim.noise')
})

test('sensor: valid takes min, max or both (bounds of the scaled reading) and refuses an empty or upside-down range', () => {
  assert.equal((one({ sensor: 't', path: '/sys/bus/w1/devices/28-0/w1_slave', scale: 0.001, valid: { min: -40, max: 125 } }) as { valid: unknown }).valid, { min: -40, max: 125 })
  assert.equal((one({ sensor: 't', path: '/x', valid: { max: 60 } }) as { valid: unknown }).valid, { max: 60 })
  assert.is((one({ sensor: 't', path: '/x' }) as { valid?: unknown }).valid, undefined)
  refusedTrigger({ sensor: 's', path: '/x', valid: {} }, 'triggers[1].valid')
  refusedTrigger({ sensor: 's', path: '/x', valid: [0, 1] }, 'triggers[1].valid')
  refusedTrigger({ sensor: 's', path: '/x', valid: { min: '0' } }, 'triggers[1].valid.min')
  refusedTrigger({ sensor: 's', path: '/x', valid: { min: 10, max: 5 } }, 'triggers[1].valid.max')
  refusedTrigger({ sensor: 's', path: '/x', valid: { low: 1 } }, 'triggers[1].valid.low')
})

test('schedule: cron with and without seconds, timezone defaults to UTC', () => {
  assert.equal(one({ schedule: '*/5 * * * *' }), { schedule: '*/5 * * * *', timezone: 'UTC', catchUp: 0 })
  assert.equal(one({ schedule: '*/10 * * * * *', timezone: 'Europe/Berlin', catchUp: 3 }), { schedule: '*/10 * * * * *', timezone: 'Europe/Berlin', catchUp: 3 })
  assert.equal(one({ schedule: '@daily', timezone: 'America/New_York', catchUp: 1000 }), { schedule: '@daily', timezone: 'America/New_York', catchUp: 1000 })
})

test('schedule: bad expression, zone and catchUp are named', () => {
  refusedTrigger({ schedule: 'every minute' }, 'triggers[1].schedule')
  refusedTrigger({ schedule: '* * * *' }, 'triggers[1].schedule')
  refusedTrigger({ schedule: '* * * * * * *' }, 'triggers[1].schedule')
  refusedTrigger({ schedule: '61 * * * *' }, 'triggers[1].schedule')
  refusedTrigger({ schedule: '' }, 'triggers[1].schedule')
  refusedTrigger({ schedule: 5 }, 'triggers[1].schedule')
  refusedTrigger({ schedule: '* * * * *', timezone: 'Mars/Olympus_Mons' }, 'triggers[1].timezone')
  refusedTrigger({ schedule: '* * * * *', timezone: '' }, 'triggers[1].timezone')
  refusedTrigger({ schedule: '* * * * *', catchUp: -1 }, 'triggers[1].catchUp')
  refusedTrigger({ schedule: '* * * * *', catchUp: 1001 }, 'triggers[1].catchUp')
  refusedTrigger({ schedule: '* * * * *', tz: 'UTC' }, 'triggers[1].tz')
})

test('triggerKind tells the three apart', () => {
  const m = validateManifest({ name: 'x', triggers: [{ mqtt: 'a' }, { sensor: 's', path: 'sim:sine' }, { schedule: '* * * * *' }] })
  assert.equal(m.triggers.map(triggerKind), ['mqtt', 'sensor', 'schedule'])
})

test('the caller\'s input is neither frozen nor shared with the manifest', () => {
  const sim = { min: 1, max: 2 }
  const raw = { name: 'x', triggers: [{ sensor: 's', path: 'sim:sine', sim }] }
  const m = validateManifest(raw)
  assert.not.ok(Object.isFrozen(sim))
  assert.ok(Object.isFrozen((m.triggers[0] as { sim: object }).sim))
  sim.min = 100
  assert.is((m.triggers[0] as { sim: { min: number } }).sim.min, 1)
})

test.run()

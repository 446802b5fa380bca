import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { validateManifest, LIMIT_DEFAULTS, isValidTopicFilter, topicMatches } from '../../../src/function/index.js'
import { LambkinError } from '../../../src/errors.js'

function refused (raw: unknown, key: string, code = 'LAMBKIN_MANIFEST_INVALID', caps = {}): LambkinError {
  try {
    validateManifest(raw, { caps })
  } catch (err) {
    assert.instance(err, LambkinError)
    const e = err as LambkinError
    assert.is(e.code, code, e.message)
    assert.is(e.info.key, key, e.message)
    assert.match(e.message, key)
    return e
  }
  assert.unreachable(`accepted ${JSON.stringify(raw)}`)
  throw new Error("unreachable")
}

test('a minimal manifest gets every default and is frozen', () => {
  const m = validateManifest({ name: 'hello' })
  assert.equal(m, { name: 'hello', handler: 'index.js', triggers: [], limits: { ...LIMIT_DEFAULTS }, env: {}, permissions: { publish: [] }, retry: { attempts: 0, backoffMs: 100 }, layers: [], provisioned: 0 })
  assert.ok(Object.isFrozen(m) && Object.isFrozen(m.limits))
})

test('the design example validates with its triggers filled in', () => {
  const m = validateManifest({
    name: 'threshold-alarm',
    triggers: [
      { mqtt: 'sensors/+/temperature', qos: 1, batch: { size: 50, windowMs: 200 } },
      { sensor: 'cpu-temp', path: '/sys/class/thermal/thermal_zone0/temp', everyMs: 1000, scale: 0.001, deadband: 0.5 },
      { schedule: '*/10 * * * * *', timezone: 'Europe/Berlin', catchUp: 3 }
    ],
    limits: { memoryKiB: 32768, timeoutMs: 1000, instructions: 10000000, concurrency: 2, stackKiB: 64 },
    env: { THRESHOLD: '70' },
    permissions: { publish: ['alarms/#'] },
    retry: { attempts: 2, backoffMs: 100 },
    layers: ['stats'],
    provisioned: 1
  })
  assert.equal(m.triggers[1], { sensor: 'cpu-temp', path: '/sys/class/thermal/thermal_zone0/temp', everyMs: 1000, scale: 0.001, deadband: 0.5, format: 'auto' })
  assert.equal(m.triggers[2], { schedule: '*/10 * * * * *', timezone: 'Europe/Berlin', catchUp: 3 })
})

test('each bad key is named', () => {
  refused({ name: 'Bad Name' }, 'name')
  refused({ name: 'layers' }, 'name')
  refused({ name: 'x', limts: {} }, 'limts')
  refused({ name: 'x', handler: '../escape.js' }, 'handler')
  refused({ name: 'x', triggers: [{ mqtt: 'a/#/b' }] }, 'triggers[0].mqtt')
  refused({ name: 'x', triggers: [{ mqtt: 'a', qos: 2 }] }, 'triggers[0].qos')
  refused({ name: 'x', triggers: [{ mqtt: 'a', batch: { size: 0, windowMs: 10 } }] }, 'triggers[0].batch.size')
  refused({ name: 'x', triggers: [{ mqtt: 'a', schedule: '* * * * *' }] }, 'triggers[0]')
  refused({ name: 'x', triggers: [{ sensor: 's', path: 'sim:wobble' }] }, 'triggers[0].path')
  refused({ name: 'x', triggers: [{ sensor: 's', path: '/x', everyMs: 5 }] }, 'triggers[0].everyMs')
  refused({ name: 'x', triggers: [{ schedule: 'every minute' }] }, 'triggers[0].schedule')
  refused({ name: 'x', triggers: [{ schedule: '* * * * *', timezone: 'Mars/Olympus' }] }, 'triggers[0].timezone')
  refused({ name: 'x', limits: { memoryKiB: 1024 } }, 'limits.memoryKiB')
  refused({ name: 'x', limits: { timeoutMs: 1.5 } }, 'limits.timeoutMs')
  refused({ name: 'x', env: { A: 1 } }, 'env.A')
  refused({ name: 'x', permissions: { publish: ['a/+b'] } }, 'permissions.publish[0]')
  refused({ name: 'x', retry: { attempts: 11 } }, 'retry.attempts')
  refused({ name: 'x', provisioned: 2 }, 'provisioned')
})

test('limits above the device cap are LAMBKIN_LIMIT_EXCEEDS_CAP', () => {
  const e = refused({ name: 'x', limits: { memoryKiB: 65536 } }, 'limits.memoryKiB', 'LAMBKIN_LIMIT_EXCEEDS_CAP', { memoryKiB: 32768 })
  assert.match(e.message, '32768')
})

test('[W1] topic filters: validity and matching', () => {
  for (const f of ['a', 'a/b', '+', '#', 'a/+/c', 'a/#', '+/+/#', '/']) assert.ok(isValidTopicFilter(f), f)
  for (const f of ['', 'a/#/b', 'a#', 'a/b+', '#/a', 'a\u0000b']) assert.not.ok(isValidTopicFilter(f), f)
  const table: Array<[string, string, boolean]> = [
    ['sensors/+/temperature', 'sensors/gh1/temperature', true],
    ['sensors/+/temperature', 'sensors/gh1/x/temperature', false],
    ['sensors/#', 'sensors', true],
    ['sensors/#', 'sensors/a/b', true],
    ['#', '$SYS/broker', false],
    ['+/broker', '$SYS/broker', false],
    ['$SYS/#', '$SYS/broker', true],
    ['a/b', 'a/b/c', false]
  ]
  for (const [f, t, want] of table) assert.is(topicMatches(f, t), want, `${f} ~ ${t}`)
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LIMIT_DEFAULTS, validateManifest } from '../../../src/function/index.js'
import { refusedBy } from './fixtures.js'

const refused = (raw: unknown, key: string): string => refusedBy(() => validateManifest(raw), key).message

test('a minimal manifest gets every default and is deeply frozen', () => {
  const m = validateManifest({ name: 'hello' })
  assert.equal(m, {
    name: 'hello',
    handler: 'index.js',
    triggers: [],
    limits: { ...LIMIT_DEFAULTS },
    env: {},
    permissions: { publish: [] },
    retry: { attempts: 0, backoffMs: 100 },
    layers: [],
    provisioned: 0
  })
  for (const part of [m, m.triggers, m.limits, m.env, m.permissions, m.permissions.publish, m.retry, m.layers]) assert.ok(Object.isFrozen(part))
  assert.throws(() => { (m.limits as { memoryKiB: number }).memoryKiB = 1 })
})

test('the function.json example in docs/functions.md validates as written', () => {
  const raw = {
    name: 'threshold-alarm',
    handler: 'index.js',
    triggers: [
      { mqtt: 'sensors/+/temperature', qos: 1, batch: { size: 50, windowMs: 200 } },
      { sensor: 'cpu-temp', path: '/sys/class/thermal/thermal_zone0/temp', everyMs: 1000, scale: 0.001, deadband: 0.5 },
      { schedule: '*/10 * * * * *', timezone: 'UTC', catchUp: 3 }
    ],
    limits: { memoryKiB: 32768, timeoutMs: 1000, instructions: 10000000, concurrency: 1, stackKiB: 64 },
    env: { THRESHOLD: '70' },
    permissions: { publish: ['alarms/#'] },
    retry: { attempts: 2, backoffMs: 100 },
    layers: ['stats']
  }
  const m = validateManifest(raw)
  assert.equal(m, {
    ...raw,
    triggers: [raw.triggers[0], { ...raw.triggers[1], format: 'auto' }, raw.triggers[2]],
    provisioned: 0
  })
  // The input is left as it was: validation copies, it does not freeze the caller's objects.
  assert.not.ok(Object.isFrozen(raw) || Object.isFrozen(raw.env) || Object.isFrozen(raw.triggers[0]))
})

test('not an object at all', () => {
  for (const raw of [null, [], 'x', 5, undefined]) refused(raw, '(root)')
})

test('unknown top-level keys are refused, with a suggestion for typos', () => {
  assert.match(refused({ name: 'x', limts: {} }, 'limts'), 'did you mean "limits"')
  assert.match(refused({ name: 'x', trigger: [] }, 'trigger'), 'did you mean "triggers"')
  refused({ name: 'x', description: 'not in the schema' }, 'description')
  refused({ name: 'x', __proto__: null, extra: 1 }, 'extra')
})

test('name: the id pattern, and "layers" is reserved', () => {
  for (const name of ['a', '0', 'a-b_c', 'x'.repeat(63)]) assert.is(validateManifest({ name }).name, name)
  for (const name of ['Bad', 'a b', '-a', '_a', 'a.b', 'x'.repeat(64), '', 7]) refused({ name }, 'name')
  refused({}, 'name')
  assert.match(refused({ name: 'layers' }, 'name'), 'reserved')
})

test('handler: relative .js/.mjs inside the folder; ./ is dropped', () => {
  assert.is(validateManifest({ name: 'x', handler: 'src/main.mjs' }).handler, 'src/main.mjs')
  assert.is(validateManifest({ name: 'x', handler: './index.js' }).handler, 'index.js')
  assert.is(validateManifest({ name: 'x', handler: 'a/./b.js' }).handler, 'a/b.js')
  for (const handler of ['index.ts', 'index', '../escape.js', 'a/../../b.js', '/abs/index.js', 'a\\b.js', 'a//b.js', 'node_modules/x/index.js', '.hidden/index.js', '', 5]) {
    refused({ name: 'x', handler }, 'handler')
  }
})

test('env: string values, shell-style names, 16 KiB in total', () => {
  assert.equal(validateManifest({ name: 'x', env: { A: '1', _b: '', C_2: 'ü' } }).env, { A: '1', _b: '', C_2: 'ü' })
  refused({ name: 'x', env: { A: 1 } }, 'env.A')
  refused({ name: 'x', env: { A: null } }, 'env.A')
  refused({ name: 'x', env: { '1A': 'x' } }, 'env.1A')
  refused({ name: 'x', env: { 'A-B': 'x' } }, 'env.A-B')
  refused({ name: 'x', env: ['A=1'] }, 'env')
  validateManifest({ name: 'x', env: { A: 'x'.repeat(16 * 1024 - 3) } })
  assert.match(refused({ name: 'x', env: { A: 'x'.repeat(16 * 1024 - 2) } }, 'env'), '16384')
  // Several values add up: each alone is small.
  refused({ name: 'x', env: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`K${i}`, 'v'.repeat(1000)])) }, 'env')
})

test('env: a "__proto__" key from JSON is kept as a variable, not lost', () => {
  const m = validateManifest(JSON.parse('{"name":"x","env":{"__proto__":"p","A":"a"}}'))
  assert.equal(Object.keys(m.env), ['__proto__', 'A'])
  assert.is(Object.getOwnPropertyDescriptor(m.env, '__proto__')?.value, 'p')
})

test('permissions.publish: topic filters, nothing by default, not the lambkin/ tree', () => {
  assert.equal(validateManifest({ name: 'x', permissions: { publish: ['alarms/#', 'out/+/x'] } }).permissions.publish, ['alarms/#', 'out/+/x'])
  assert.equal(validateManifest({ name: 'x', permissions: {} }).permissions.publish, [])
  refused({ name: 'x', permissions: { publish: ['a/+b'] } }, 'permissions.publish[0]')
  refused({ name: 'x', permissions: { publish: ['ok', ''] } }, 'permissions.publish[1]')
  refused({ name: 'x', permissions: { publish: [1] } }, 'permissions.publish[0]')
  refused({ name: 'x', permissions: { publish: 'alarms/#' } }, 'permissions.publish')
  refused({ name: 'x', permissions: { publish: ['lambkin/v1/dev1/up/batch'] } }, 'permissions.publish[0]')
  refused({ name: 'x', permissions: { subscribe: [] } }, 'permissions.subscribe')
})

test('retry: attempts 0..10, backoffMs 0..3600000', () => {
  assert.equal(validateManifest({ name: 'x', retry: { attempts: 10 } }).retry, { attempts: 10, backoffMs: 100 })
  assert.equal(validateManifest({ name: 'x', retry: { backoffMs: 0 } }).retry, { attempts: 0, backoffMs: 0 })
  refused({ name: 'x', retry: { attempts: 11 } }, 'retry.attempts')
  refused({ name: 'x', retry: { attempts: -1 } }, 'retry.attempts')
  refused({ name: 'x', retry: { backoffMs: 3_600_001 } }, 'retry.backoffMs')
  refused({ name: 'x', retry: { backofMs: 5 } }, 'retry.backofMs')
  refused({ name: 'x', retry: 3 }, 'retry')
})

test('layers: names, no duplicates', () => {
  assert.equal(validateManifest({ name: 'x', layers: ['stats', 'geo-2'] }).layers, ['stats', 'geo-2'])
  refused({ name: 'x', layers: ['stats', 'Bad'] }, 'layers[1]')
  refused({ name: 'x', layers: ['../etc'] }, 'layers[0]')
  refused({ name: 'x', layers: ['a', 'a'] }, 'layers[1]')
  refused({ name: 'x', layers: 'stats' }, 'layers')
})

test('provisioned: 0..limits.concurrency', () => {
  assert.is(validateManifest({ name: 'x', provisioned: 3, limits: { concurrency: 3 } }).provisioned, 3)
  assert.match(refused({ name: 'x', provisioned: 2 }, 'provisioned'), 'concurrency')
  refused({ name: 'x', provisioned: -1 }, 'provisioned')
  refused({ name: 'x', provisioned: 0.5 }, 'provisioned')
})

test('the reason is in details, for machines', () => {
  try {
    validateManifest({ name: 'x', triggers: [{ mqtt: 'a' }, { sensor: 's', path: '/x', everyMs: 5 }] })
    assert.unreachable()
  } catch (err) {
    const info = (err as { details: Record<string, unknown> }).details
    assert.is(info.key, 'triggers[1].everyMs')
    assert.match(String(info.reason), 'between 10 and 86400000')
  }
})

test('a number too large for a double (1e400 in function.json parses to Infinity) is shown as Infinity, not as null', () => {
  const m = refused(JSON.parse('{ "name": "f", "limits": { "timeoutMs": 1e400 } }'), 'limits.timeoutMs')
  assert.match(m, /got Infinity/)
  assert.not.match(m, /null/)
  assert.match(refused(JSON.parse('{ "name": "f", "retry": { "attempts": -1e400 } }'), 'retry.attempts'), /got -Infinity/)
})

test.run()

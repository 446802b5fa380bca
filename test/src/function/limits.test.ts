import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LIMIT_CAPS, LIMIT_DEFAULTS, LIMIT_MINIMUMS, resolveCaps, validateManifest } from '../../../src/function/index.js'
import { refusedBy } from './fixtures.js'

const withLimits = (limits: unknown, caps = {}): unknown => validateManifest({ name: 'x', limits }, { caps })

test('defaults, caps and floors are the documented numbers, and frozen', () => {
  assert.equal({ ...LIMIT_DEFAULTS }, { memoryKiB: 32768, timeoutMs: 1000, instructions: 10_000_000, concurrency: 1, stackKiB: 64 })
  assert.equal({ ...LIMIT_CAPS }, { memoryKiB: 262144, timeoutMs: 900000, instructions: 1e12, concurrency: 64, stackKiB: 512 })
  assert.equal({ ...LIMIT_MINIMUMS }, { memoryKiB: 16384, timeoutMs: 1, instructions: 10000, concurrency: 1, stackKiB: 16 })
  for (const o of [LIMIT_DEFAULTS, LIMIT_CAPS, LIMIT_MINIMUMS]) assert.ok(Object.isFrozen(o))
})

test('given limits are kept, missing ones take the defaults', () => {
  const m = validateManifest({ name: 'x', limits: { memoryKiB: 65536, concurrency: 4 } })
  assert.equal(m.limits, { ...LIMIT_DEFAULTS, memoryKiB: 65536, concurrency: 4 })
})

test('exactly the floor and exactly the cap are accepted', () => {
  assert.equal(validateManifest({ name: 'x', limits: { ...LIMIT_MINIMUMS } }).limits, { ...LIMIT_MINIMUMS })
  assert.equal(validateManifest({ name: 'x', limits: { ...LIMIT_CAPS } }).limits, { ...LIMIT_CAPS })
})

test('below the floor is refused with the floor in the message', () => {
  for (const k of Object.keys(LIMIT_MINIMUMS) as Array<keyof typeof LIMIT_MINIMUMS>) {
    const e = refusedBy(() => withLimits({ [k]: LIMIT_MINIMUMS[k] - 1 }), `limits.${k}`)
    assert.ok(e.message.includes(String(LIMIT_MINIMUMS[k])), e.message)
  }
  assert.match(refusedBy(() => withLimits({ memoryKiB: 16383 }), 'limits.memoryKiB').message, '16 MiB')
})

test('non-integers, strings and unknown keys are refused naming the key', () => {
  refusedBy(() => withLimits({ timeoutMs: 1.5 }), 'limits.timeoutMs')
  refusedBy(() => withLimits({ memoryKiB: '32768' }), 'limits.memoryKiB')
  refusedBy(() => withLimits({ instructions: Infinity }), 'limits.instructions')
  refusedBy(() => withLimits({ concurrency: null }), 'limits.concurrency')
  const e = refusedBy(() => withLimits({ memKiB: 1 }), 'limits.memKiB')
  assert.match(e.message, 'memoryKiB')
  refusedBy(() => withLimits([]), 'limits')
  refusedBy(() => withLimits(5), 'limits')
})

test('above the default cap: LAMBKIN_LIMIT_EXCEEDS_CAP naming key, value and cap', () => {
  for (const k of Object.keys(LIMIT_CAPS) as Array<keyof typeof LIMIT_CAPS>) {
    const value = LIMIT_CAPS[k] + 1
    const e = refusedBy(() => withLimits({ [k]: value }), `limits.${k}`, 'LAMBKIN_LIMIT_EXCEEDS_CAP')
    assert.ok(e.message.includes(String(value)) && e.message.includes(String(LIMIT_CAPS[k])), e.message)
    assert.is(e.details.value, value)
    assert.is(e.details.cap, LIMIT_CAPS[k])
  }
})

test('a device may lower or raise its caps', () => {
  const e = refusedBy(() => withLimits({ memoryKiB: 65536 }, { memoryKiB: 32768 }), 'limits.memoryKiB', 'LAMBKIN_LIMIT_EXCEEDS_CAP')
  assert.match(e.message, '32768')
  assert.is(validateManifest({ name: 'x', limits: { memoryKiB: 1048576 } }, { caps: { memoryKiB: 2097152 } }).limits.memoryKiB, 1048576)
  // Caps left undefined fall back to LIMIT_CAPS instead of letting everything through.
  refusedBy(() => withLimits({ concurrency: 65 }, { concurrency: undefined }), 'limits.concurrency', 'LAMBKIN_LIMIT_EXCEEDS_CAP')
})

test('a default above a lowered cap becomes the cap, so a manifest that asked for nothing still runs', () => {
  const m = validateManifest({ name: 'x' }, { caps: { memoryKiB: 16384, timeoutMs: 500, stackKiB: 32 } })
  assert.equal(m.limits, { ...LIMIT_DEFAULTS, memoryKiB: 16384, timeoutMs: 500, stackKiB: 32 })
})

test('caps below the floor are a device config error naming the cap', () => {
  refusedBy(() => resolveCaps({ memoryKiB: 1024 }), 'caps.memoryKiB', 'LAMBKIN_CONFIG_INVALID')
  refusedBy(() => resolveCaps({ timeoutMs: 2.5 }), 'caps.timeoutMs', 'LAMBKIN_CONFIG_INVALID')
  assert.equal({ ...resolveCaps({}) }, { ...LIMIT_CAPS })
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeValue, encodeNamed, encodeValue } from '../../../device/store/codec.js'
import { decodePublish, encodePublish } from '../../../device/store/publish-value.js'
import { LambkinError } from '../../../src/errors.js'

const roundTrip = (v: unknown): unknown => decodeValue(encodeValue(v, 'test'), 'test')

test('a __proto__ key comes back as an own property, at any depth, and sets no prototype', () => {
  const state = JSON.parse('{"__proto__":3,"__proto_":4,"n":{"__proto__":{"x":1}},"a":[{"__proto__":null}]}')
  const back = roundTrip(state) as Record<string, unknown>
  assert.equal(Object.keys(back), ['__proto__', '__proto_', 'n', 'a'])
  assert.is(Object.getOwnPropertyDescriptor(back, '__proto__')?.value, 3)
  assert.is(back.__proto_, 4)
  assert.is(Object.getPrototypeOf(back), Object.prototype)
  const n = back.n as Record<string, unknown>
  assert.equal(Object.getOwnPropertyDescriptor(n, '__proto__')?.value, { x: 1 })
  assert.is(Object.getPrototypeOf(n), Object.prototype)
  assert.is(JSON.stringify(back), JSON.stringify(state))
  assert.is(({} as Record<string, unknown>).x, undefined)
})

test('values without a __proto__ key decode as before: numeric keys named as strings, bytes kept', () => {
  const bytes = new Uint8Array([1, 2, 3])
  assert.equal(roundTrip({ a: 1, b: [true, null, 'x'], c: bytes }), { a: 1, b: [true, null, 'x'], c: bytes })
  assert.equal(roundTrip(new Map<unknown, unknown>([[1, 'one'], ['__proto__', new Map([[2, 'two']])]])), JSON.parse('{"1":"one","__proto__":{"2":"two"}}'))
  // a __proto__ only as a string value takes the Map path and gives the same objects
  assert.equal(roundTrip({ k: '__proto__', m: { z: 1 } }), { k: '__proto__', m: { z: 1 } })
})

test('bad bytes throw LAMBKIN_STORE_ERROR on either path', () => {
  for (const b of [Buffer.from([0xa1, 0x69]), Buffer.concat([Buffer.from([0xa1, 0x69]), Buffer.from('__proto__')])]) {
    try {
      decodeValue(b, 'state')
      assert.unreachable('decoded')
    } catch (err) {
      assert.is((err as { code?: string }).code, 'LAMBKIN_STORE_ERROR')
    }
  }
})

test('a value that cannot be encoded is a LAMBKIN_STORE_ERROR naming it, the name built only then', () => {
  const named = (what: string) => (err: unknown): boolean => err instanceof LambkinError && err.code === 'LAMBKIN_STORE_ERROR' &&
    err.message.startsWith(`${what} cannot be stored`) && (err.details as { what: string }).what === what
  assert.throws(() => encodeNamed({ f: () => 1 }, 'records[', 3, '].data'), named('records[3].data'))
  assert.throws(() => encodeNamed({ s: Symbol('x') }, 'meta ', 'constructor'), named('meta constructor'))
  assert.throws(() => encodePublish({ topic: 'out/x', payload: (() => 1) as never, qos: 1, retain: false, hop: { traceId: 't', hop: 2 }, fn: 'f' }), named('publish to out/x'))
  assert.equal([...encodeNamed({ a: 1 }, 'x', 0)], [...encodeValue({ a: 1 }, 'x')])
})

test('a function\'s publish (hop and function, no MQTT 5 fields) is stored as the same bytes as before, fields in the same order', () => {
  const hop = { traceId: 'tr-1', hop: 2 }
  const bytes = encodePublish({ topic: 'bench/out', payload: '{"value":30}', qos: 1, retain: false, hop, fn: 'threshold' })
  assert.equal([...bytes], [...encodeValue({ t: 'bench/out', p: '{"value":30}', q: 1, r: false, h: 2, tr: 'tr-1', f: 'threshold' }, 'x')])
  assert.equal(decodePublish(bytes, 'p'), { topic: 'bench/out', payload: '{"value":30}', qos: 1, retain: false, hop, fn: 'threshold' })
  const withRequest = encodePublish({ topic: 'a', payload: 'b', qos: 1, retain: true, hop, fn: 'f', responseTopic: 'r', correlationData: 'AQI=' })
  assert.equal(decodePublish(withRequest, 'p'), { topic: 'a', payload: 'b', qos: 1, retain: true, hop, fn: 'f', responseTopic: 'r', correlationData: 'AQI=' })
})

test.run()

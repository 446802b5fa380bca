import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeValue, encodeValue } from '../../../device/store/codec.js'

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

test.run()

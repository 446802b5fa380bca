// Name-keyed objects (src/own.ts): a key a user or device chose answers only what was set.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { dict, own, toDict } from '../../src/own.js'

const NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty']

test('own() answers undefined for every name Object.prototype holds, on plain and decoded objects', () => {
  const plain: Record<string, number> = { a: 1 }
  const parsed = JSON.parse('{"a":1}') as Record<string, number>
  for (const n of NAMES) {
    assert.is(own(plain, n), undefined, n)
    assert.is(own(parsed, n), undefined, n)
    assert.is(own(structuredClone(plain), n), undefined, n)
  }
  assert.is(own(plain, 'a'), 1)
  assert.is(own(undefined, 'a'), undefined)
})

test('dict() keeps every name as a plain own key, __proto__ included, and its prototype stays null', () => {
  const d = dict<string>()
  for (const n of NAMES) d[n] = `v-${n}`
  assert.is(Object.getPrototypeOf(d), null)
  assert.equal(Object.keys(d).sort(), [...NAMES].sort())
  for (const n of NAMES) assert.is(own(d, n), `v-${n}`)
})

test('toDict() copies own entries only, "__proto__" as data, and takes anything', () => {
  const src = JSON.parse('{"__proto__":{"polluted":true},"constructor":"c"}') as Record<string, unknown>
  const d = toDict<unknown>(src)
  assert.is(Object.getPrototypeOf(d), null)
  assert.equal(own(d, '__proto__'), { polluted: true })
  assert.is(own(d, 'constructor'), 'c')
  assert.is((d as { polluted?: unknown }).polluted, undefined)
  assert.equal(Object.keys(toDict(null)), [])
  assert.equal(Object.keys(toDict('x')), [])
})

test.run()

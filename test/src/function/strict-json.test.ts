// The strict JSON reader behind function.json and the device config (docs/functions.md on
// function.json, docs/device.md on the config file: read with limits; duplicate keys, invalid UTF-8 and deep nesting are refused, not guessed at).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseStrictJson, StrictJsonError } from '../../../src/function/index.js'
import type { StrictJsonFault } from '../../../src/function/index.js'

const LIMITS = { maxBytes: 1024, maxDepth: 4 }

function refused (input: string | Uint8Array, fault: StrictJsonFault, limits = LIMITS): StrictJsonError {
  try {
    parseStrictJson(input, limits)
  } catch (err) {
    assert.instance(err, StrictJsonError)
    assert.is((err as StrictJsonError).fault, fault, (err as Error).message)
    return err as StrictJsonError
  }
  assert.unreachable(`${String(input)} was accepted`)
  throw new Error('unreachable')
}

test('parses what JSON.parse parses, to the same value', () => {
  for (const text of ['{}', '[]', '0', '-1.5e3', '"a\\u00e9\\n"', 'true', 'null', ' {"a":[1,{"b":null}],"c":"d"} ', '{"__proto__":{"x":1}}', '"\\ud800"']) {
    assert.equal(parseStrictJson(text, LIMITS), JSON.parse(text), text)
  }
  const proto = parseStrictJson('{"__proto__":{"x":1}}', LIMITS) as Record<string, unknown>
  assert.ok(Object.hasOwn(proto, '__proto__'), '__proto__ is an own key, as JSON.parse makes it')
  assert.is(Object.getPrototypeOf(proto), Object.prototype)
})

test('a key given twice is refused, naming the key and where the second one is', () => {
  const e = refused('{"permissions":{"publish":["ok/#"]},"permissions":{"publish":["#"]}}', 'duplicate-key')
  assert.is(e.key, 'permissions')
  assert.is(e.position, 36)
  assert.match(e.message, 'names key "permissions" twice in one object at line 1, column 37')
  refused('{"a":{"b":1,"b":2}}', 'duplicate-key')
  // The same key in two different objects is fine; "a" and "\u0061" are the same key.
  assert.equal(parseStrictJson('[{"a":1},{"a":2}]', LIMITS), [{ a: 1 }, { a: 2 }])
  assert.is(refused('{"a":1,"\\u0061":2}', 'duplicate-key').key, 'a')
})

test('nesting deeper than maxDepth is refused; exactly maxDepth is fine', () => {
  assert.equal(parseStrictJson('[[[[1]]]]', LIMITS), [[[[1]]]])
  const e = refused('[[[[[1]]]]]', 'too-deep')
  assert.is(e.position, 4)
  // Far past any stack: refused at the limit, not by a RangeError.
  refused('['.repeat(100_000), 'too-deep', { maxBytes: 1e6, maxDepth: 64 })
})

test('bytes that are not UTF-8 are refused with their offset, never replaced by U+FFFD', () => {
  const bad = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])
  const e = refused(bad, 'not-utf8')
  assert.is(e.position, 9)
  for (const seq of [[0xff], [0xed, 0xa0, 0x80], [0xe0, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0xe2, 0x82]]) {
    refused(Buffer.concat([Buffer.from('"'), Buffer.from(seq), Buffer.from('"')]), 'not-utf8')
  }
  assert.is(parseStrictJson(Buffer.from('"€😀"'), LIMITS), '€😀')
  assert.is(parseStrictJson(Buffer.from('\ufeff{"a":1}'), LIMITS) !== undefined, true, 'a byte order mark is dropped')
})

test('input over maxBytes is refused before it is parsed', () => {
  assert.is(parseStrictJson(`"${'x'.repeat(1022)}"`, LIMITS), 'x'.repeat(1022))
  refused(`"${'x'.repeat(1023)}"`, 'too-large')
  refused(`"${'€'.repeat(400)}"`, 'too-large')
})

test('syntax errors name the position and never quote the text', () => {
  const e = refused('{\n "password": "hunter2" x}', 'syntax')
  assert.is(e.line, 2)
  assert.is(e.column, 24)
  assert.not.match(e.message, 'hunter2')
  for (const text of ['', '{', '{"a" 1}', '[1,]', '{"a":1,}', '01', '1.', '"\\x"', '"a\nb"', 'tru', '{} {}', 'NaN']) refused(text, 'syntax')
})

test.run()

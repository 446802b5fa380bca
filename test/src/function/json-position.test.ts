import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { jsonErrorPosition } from '../../../src/function/index.js'

test('valid JSON has no error position', () => {
  for (const text of ['{}', '[]', ' 1 ', '"x"', 'true', 'null', '-0.5e+10', '{"a":[1,{"b":null}],"c":"\\u00e9\\n"}', '\n{\n  "a": false\n}\n']) {
    JSON.parse(text)
    assert.is(jsonErrorPosition(text), undefined, text)
  }
})

test('the first bad character, as line and column', () => {
  const table: Array<[string, number, number, number]> = [
    // text, position, line, column
    ['{ "name": ', 10, 1, 11], // ends early: the position is the end
    ['{ "name": }', 10, 1, 11],
    ['{\n  "a": 1,\n}', 12, 3, 1], // trailing comma
    ['[1, 2,]', 6, 1, 7],
    ['{"a":1} x', 8, 1, 9],
    ['{"a": tru}', 9, 1, 10],
    ["{'a': 1}", 1, 1, 2],
    ['{"a" 1}', 5, 1, 6],
    ['{"a": 01}', 7, 1, 8],
    ['{"a": 1.}', 7, 1, 8],
    ['{"a": "x\ny"}', 8, 1, 9], // raw newline inside a string
    ['{"a": "\\q"}', 8, 1, 9],
    ['{"a": "\\u12g4"}', 8, 1, 9],
    ['', 0, 1, 1],
    ['[', 1, 1, 2],
    ['{"a": [1, 2}', 11, 1, 12]
  ]
  for (const [text, position, line, column] of table) {
    assert.throws(() => JSON.parse(text), undefined, text)
    assert.equal(jsonErrorPosition(text), { position, line, column }, JSON.stringify(text))
  }
})

test('agrees with V8 wherever V8 names a position', () => {
  for (const text of ['{\n  "a": 1,\n}', '{"a":1} x', '{"a" 1}', '{"a": 01}', '[1 2]', '{"a": "\\q"}', '{"a":1,}']) {
    let v8 = -1
    try { JSON.parse(text) } catch (err) { v8 = Number(/position (\d+)/.exec((err as Error).message)?.[1] ?? -1) }
    assert.ok(v8 >= 0, `V8 named no position for ${text}`)
    assert.is(jsonErrorPosition(text)?.position, v8, text)
  }
})

test('deep nesting does not overflow the stack', () => {
  const deep = '['.repeat(200_000) + ']'.repeat(199_999)
  assert.equal(jsonErrorPosition(deep)?.position, deep.length)
})

test.run()

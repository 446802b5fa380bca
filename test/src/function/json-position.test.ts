import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { jsonErrorPosition, jsonErrorReason } from '../../../src/function/index.js'

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

test('says what is wrong in the words a person would use, never quoting the text', () => {
  const table: Array<[string, RegExp]> = [
    ['{\n  "name": "a",\n  "handler": "index.js",\n}', /^trailing comma before '}'$/],
    ['[1, 2,]', /^trailing comma before ']'$/],
    ['{"a": 1 "b": 2}', /^missing comma/],
    ['[1 2]', /^missing comma/],
    ['{"a": [1, 2] "b": 2}', /^missing comma/],
    ['{name: "x"}', /^unquoted key/],
    ['{"a": 1, secret: 2}', /^unquoted key/],
    ["{'a': 1}", /single quotes/],
    ['{"a": \'x\'}', /single quotes/],
    ['{"a" 1}', /^missing ':' after the key$/],
    ['{"a": }', /^expected a value, found '}'$/],
    ['{"a": 01}', /leading zeros/],
    ['{"a": 1.}', /digits after '\.'/],
    ['{"a": tru}', /did you mean true/],
    ['{"a": yes}', /true, false and null/],
    ['{"a": "x\ny"}', /line break inside a string/],
    ['{"a": "\\q"}', /not a JSON escape/],
    ['{"a": "x}', /never closed/],
    ['{"a": [1, 2}', /does not close the '\[' that is open; expected '\]'/],
    ['{"a": 1', /ends early: missing '}'/],
    ['', /empty/],
    ['{"a": 1} x', /more text after the JSON value/],
    ['{"a": 1, // note\n"b": 2}', /comments are not allowed/],
    ['{"a": 1,, "b": 2}', /extra comma/]
  ]
  for (const [text, reason] of table) {
    assert.throws(() => JSON.parse(text), undefined, text)
    const r = jsonErrorReason(text)
    assert.ok(r !== undefined, text)
    assert.match(r.reason, reason, `${JSON.stringify(text)}: ${r.reason}`)
    assert.equal({ position: r.position, line: r.line, column: r.column }, jsonErrorPosition(text))
    assert.not.match(r.reason, /secret|name|yes/, 'the reason quotes no text from the file')
  }
  assert.is(jsonErrorReason('{"a": [1, {"b": null}]}'), undefined)
})

test('deep nesting does not overflow the stack', () => {
  const deep = '['.repeat(200_000) + ']'.repeat(199_999)
  assert.equal(jsonErrorPosition(deep)?.position, deep.length)
})

test.run()

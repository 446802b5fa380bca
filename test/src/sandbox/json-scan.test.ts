// The worker tells a publishes-only envelope good without JSON.parse (output-check.ts
// publishesPass, json-scan.ts): the scan must never pass what JSON.parse and the whole check
// would refuse, whatever the sandbox wrote. Checked against JSON.parse itself on hand-picked
// texts and on random mutations of valid ones.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { IO_CAP_DEFAULTS } from '../../../src/sandbox/index.js'
import { jsonValueEnd } from '../../../src/sandbox/json-scan.js'
import { checkEnvelope, publishesPass } from '../../../src/sandbox/output-check.js'

const test = suite('the worker\'s JSON scan')
const caps = IO_CAP_DEFAULTS

const parses = (s: string): boolean => {
  try {
    JSON.parse(s)
    return true
  } catch {
    return false
  }
}
/** Whether the scan reads `s` as exactly one JSON value. */
const scans = (s: string): boolean => jsonValueEnd(s, 0) === s.length

const VALID = ['0', '-0', '1', '-12.5e+3', '1E-7', '0.25', '1e20', 'true', 'false', 'null', '""', '"a\\"b\\\\c\\/\\b\\f\\n\\r\\t"', '"\\u00e9\\uD800"',
  '"\u00e9\u20ac\ud83d\ude00\ud800"', '[]', '{}', '[1,[2,[3,{}]],"x"]', '{"a":{"b":[true,false,null]},"__proto__":{"x":1},"constructor":2}',
  '{"":""}', '[[[[[[[[[[1]]]]]]]]]]']
const INVALID = ['', '01', '-', '1.', '.5', '+1', '1e', '1e+', '0x1', 'tru', 'nul', 'falsey', 'undefined', 'NaN', 'Infinity', '"abc', '"\u0001"', '"\\x"',
  '"\\u12G4"', '"\\u12"', '[', '[1,]', '[,1]', '[1 2]', '{"a":1,}', '{"a"}', '{1:2}', '{"a":1', '"a"b', '1]', '{}}', '[1]]', "'a'", '{"a":1}x', '[1}', '{"a":1]', '[{"a":[1}]]']

test('the scan reads exactly the texts JSON.parse reads (without whitespace)', () => {
  for (const s of VALID) {
    assert.ok(parses(s), `JSON.parse: ${s}`)
    assert.ok(scans(s), s)
  }
  for (const s of INVALID) {
    assert.not.ok(parses(s), `JSON.parse: ${s}`)
    assert.not.ok(scans(s), s)
  }
  // Left to JSON.parse: whitespace, and nesting deeper than the scan keeps (no stack to overflow).
  assert.not.ok(scans('[1, 2]'))
  assert.not.ok(scans('['.repeat(100_000) + ']'.repeat(100_000)))
  assert.ok(scans('['.repeat(64) + ']'.repeat(64)))
})

/** A seeded generator, so a failure names a case that can be run again. */
function random (seed: number): () => number {
  let x = seed
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648
    return x / 2147483648
  }
}
const SIGNIFICANT = ['"', '\\', ',', ':', '[', ']', '{', '}', '0', '1', '-', '.', 'e', '+', 't', 'n', 'u', 'x', '\u0001', '\ud800']

test('on random mutations of valid JSON, the scan never reads a text JSON.parse refuses, and reads those it takes', () => {
  const next = random(23)
  let both = 0
  for (let k = 0; k < 30_000; k++) {
    const base = VALID[Math.floor(next() * VALID.length)]
    let s = base
    for (let m = 1 + Math.floor(next() * 3); m > 0; m--) {
      const at = Math.floor(next() * (s.length + 1))
      const ch = SIGNIFICANT[Math.floor(next() * SIGNIFICANT.length)]
      const op = next()
      s = op < 0.4 ? s.slice(0, at) + ch + s.slice(at) : op < 0.7 ? s.slice(0, at) + s.slice(at + 1) : s.slice(0, at) + ch + s.slice(at + 1)
    }
    const p = parses(s)
    assert.is(scans(s), p, `case ${k}: ${JSON.stringify(s)}`)
    if (p) both++
  }
  assert.ok(both > 1000, `${both} mutated texts were still JSON`)
})

const pubsEnvelope = (entries: string[]): string => `{"ok":true,"pubs":[${entries.join(',')}]}`

test('[host] a publishes-only envelope is refused as before when it is anything but the prelude\'s shape', () => {
  const grant = ['out/#']
  const good = '["out/x",{"i":1,"value":55,"__proto__":{"a":1}},1,false]'
  assert.is(checkEnvelope(pubsEnvelope([good]), caps, grant), undefined)
  assert.is(checkEnvelope(pubsEnvelope([good, '["out/y","text",0,true]']), caps, grant), undefined)
  const refused: Array<[string, string]> = [
    // A payload that closes the list early to add keys or a publish of its own.
    ['{"ok":true,"pubs":[["out/x",1,1,false]],"sv":1,"s":[1]}', 'LAMBKIN_FUNCTION_ERROR'],
    ['{"ok":true,"pubs":[["out/x",1]],"x":[[1,1,false]]}', 'LAMBKIN_FUNCTION_ERROR'],
    [pubsEnvelope(['["out/x",1,1,false]', '["secret/x",1,1,false]']), 'LAMBKIN_PERMISSION_DENIED'],
    [pubsEnvelope(['["lambkin/up/x",1,1,false]']), 'LAMBKIN_PERMISSION_DENIED'],
    [pubsEnvelope(['["out/+",1,1,false]']), 'LAMBKIN_TOPIC_INVALID'],
    [pubsEnvelope(['["out/a\\u0000",1,1,false]']), 'LAMBKIN_TOPIC_INVALID'],
    [pubsEnvelope(['["out/x",1,2,false]']), 'LAMBKIN_FUNCTION_ERROR'],
    [pubsEnvelope(['["out/x",1,1,"false"]']), 'LAMBKIN_FUNCTION_ERROR'],
    [pubsEnvelope(['["out/x",1,1,false,{"c":"%%"}]']), 'LAMBKIN_FUNCTION_ERROR'],
    [pubsEnvelope(['["out/x",01,1,false]']), 'LAMBKIN_FUNCTION_ERROR'],
    [pubsEnvelope(['["out/x",{"a":1,},1,false]']), 'LAMBKIN_FUNCTION_ERROR'],
    [pubsEnvelope(['["out/x","\u0001",1,false]']), 'LAMBKIN_FUNCTION_ERROR'],
    [pubsEnvelope(['["out/x",1,1,false]']) + 'x', 'LAMBKIN_FUNCTION_ERROR'],
    [pubsEnvelope(['["out/x",1,1,false]']) + '}', 'LAMBKIN_FUNCTION_ERROR'],
    [pubsEnvelope(['["out/x",1,1,false]']).slice(0, -1), 'LAMBKIN_FUNCTION_ERROR'],
    [pubsEnvelope(Array.from({ length: caps.maxPublishes + 1 }, () => '["out/x",1,1,false]')), 'LAMBKIN_OUTPUT_LIMIT']
  ]
  for (const [e, code] of refused) assert.is(checkEnvelope(e, caps, grant)?.code, code, e.slice(0, 120))
  assert.is(checkEnvelope(pubsEnvelope(Array.from({ length: caps.maxPublishes }, () => '["out/x",1,1,false]')), caps, grant), undefined)
})

test('[host] on random mutations of a publishes-only envelope, every one the scan lets through parses to exactly the shape checked', () => {
  const next = random(7)
  const grant = ['out/#']
  const base = pubsEnvelope(['["out/x",{"i":1,"v":[55,"a"]},1,false]', '["out/y","t",0,true]'])
  let passed = 0
  for (let k = 0; k < 20_000; k++) {
    let s = base
    for (let m = 1 + Math.floor(next() * 2); m > 0; m--) {
      const at = Math.floor(next() * (s.length + 1))
      const ch = SIGNIFICANT[Math.floor(next() * SIGNIFICANT.length)]
      s = next() < 0.5 ? s.slice(0, at) + ch + s.slice(at) : s.slice(0, at) + s.slice(at + 1)
    }
    if (!publishesPass(s, caps, grant)) continue
    passed++
    const why = `case ${k}: ${s}`
    assert.ok(parses(s), why)
    const e = JSON.parse(s) as Record<string, unknown>
    assert.equal(Object.keys(e).sort(), ['ok', 'pubs'], why)
    assert.is(e.ok, true, why)
    const pubs = e.pubs as unknown[][]
    assert.ok(Array.isArray(pubs) && pubs.length <= caps.maxPublishes, why)
    for (const p of pubs) {
      assert.ok(Array.isArray(p) && p.length === 4 && (p[2] === 0 || p[2] === 1) && typeof p[3] === 'boolean', why)
      assert.ok(typeof p[0] === 'string' && /^out\/[^#+]*$/.test(p[0]), why)
    }
  }
  assert.ok(passed > 500, `${passed} mutated envelopes passed the scan`)
})

test.run()

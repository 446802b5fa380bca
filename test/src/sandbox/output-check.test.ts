// The sandbox's caps are enforced by the host: a handler that replaces the built-ins the glue
// uses cannot get more out than the caps allow, caps count UTF-8 bytes as stored and sent,
// and the worker's check (output-check.ts) refuses a tampered envelope on its own.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SandboxPool, IO_CAP_DEFAULTS } from '../../../src/sandbox/index.js'
import type { Outcome, OutcomeFail, OutcomeOk } from '../../../src/sandbox/index.js'
import { checkEnvelope, maxEnvelopeChars, plainResult } from '../../../src/sandbox/output-check.js'
import { buildOutcome } from '../../../src/sandbox/outcome.js'
import { makeSpec } from '../../helpers/spec.js'

const test = suite<{ pool: SandboxPool }>('output caps held by the host', { pool: undefined as never })
test.before(async (ctx) => { ctx.pool = await SandboxPool.create({ workers: 1 }) })
test.after(async (ctx) => { await ctx.pool.close() })

const caps = IO_CAP_DEFAULTS
const bytes = (v: unknown): number => Buffer.byteLength(typeof v === 'string' ? v : JSON.stringify(v) ?? '')

function failed (o: Outcome, code: string, limit?: string): OutcomeFail {
  if (o.ok) assert.unreachable(`expected ${code}, got success`)
  const f = o as OutcomeFail
  assert.is(f.error.code, code, f.error.message)
  if (limit !== undefined) assert.is(f.error.details?.limit, limit, f.error.message)
  return f
}

/** Every cap holds on an outcome, whatever the function did. */
function assertWithinCaps (o: Outcome): void {
  if (!o.ok) return
  const ok = o as OutcomeOk
  assert.ok(ok.publishes.length <= caps.maxPublishes, `${ok.publishes.length} publishes`)
  for (const p of ok.publishes) assert.ok(bytes(p.payload) <= caps.publishBytes, `a ${bytes(p.payload)} byte publish`)
  assert.ok(ok.emits.length <= caps.maxEmits, `${ok.emits.length} emits`)
  assert.ok(ok.emits.reduce((n: number, e) => n + bytes(e), 0) <= caps.emitBytes, 'emit bytes')
  if (ok.stateChanged) assert.ok(bytes(ok.state) <= caps.stateBytes, `a ${bytes(ok.state)} byte state`)
  if (ok.result !== undefined) assert.ok(bytes(ok.result) <= caps.resultBytes, 'result bytes')
}

// The attack from the issue: the glue joined its buffered publishes with Array.prototype.join
// after user code ran, so a replaced join wrote whatever it liked into the envelope.
const JOIN_INJECTION = `export default (e, ctx) => {
  const join = Array.prototype.join
  const pub = '["out/x",' + JSON.stringify('p'.repeat(140 * 1024)) + ',1,false]'
  const many = []
  for (let i = 0; i < 151; i++) many.push(pub)
  const pubs = join.call(many, ',')
  const emits = JSON.stringify('e'.repeat(300 * 1024))
  const state = JSON.stringify({ big: 's'.repeat(205 * 1024) })
  Array.prototype.join = function () {
    Array.prototype.join = join
    return pubs + '],"sv":7,"s":' + state + ',"emits":[' + emits
  }
  ctx.publish('out/x', 'small')
  ctx.emit(1)
  return 1
}`

test('a handler replacing Array.prototype.join cannot pass the publish, emit or state caps', async ({ pool }) => {
  const k = await pool.load(makeSpec(JOIN_INJECTION, { publish: ['out/#'], limits: { memoryKiB: 131072, timeoutMs: 20_000, instructions: 1e10 } }))
  const o = await pool.invoke(k, {})
  assertWithinCaps(o)
  // The glue no longer calls join at all: the function's own publish and emit come back.
  assert.ok(o.ok, (o as OutcomeFail).error?.message)
  assert.equal((o as OutcomeOk).publishes.map((p) => p.payload), ['small'])
  assert.equal((o as OutcomeOk).emits, [1])
  assert.is((o as OutcomeOk).stateChanged, false)
})

// Everything the glue might lean on after user code, replaced at once.
const TAMPER = `
  const realCall = Function.prototype.call
  Array.prototype.join = function () { return '"pwned"' }
  Object.defineProperty(Array.prototype, 'toJSON', { value: function () { return 'pwned' }, configurable: true, writable: true })
  Object.defineProperty(Array.prototype, '0', { set () {}, get () { return '#' }, configurable: true })
  String.prototype.split = function () { return ['out', 'x'] }
  String.prototype.indexOf = function () { return -1 }
  String.prototype.includes = function () { return false }
  String.prototype.charCodeAt = function () { return 65 }
  String.prototype.slice = function () { return '' }
  Object.defineProperty(String.prototype, Symbol.split, { value: function () { return ['out', 'x'] }, configurable: true })
  Promise.prototype.then = function (ok) { return Promise.resolve('{"ok":true,"r":"forged"}') }
  globalThis.encodeURIComponent = function () { return '' }
  globalThis.unescape = function () { return '' }
  Reflect.apply = function () { return 65 }
  JSON.parse = function () { return {} }
  Function.prototype.call = function () { return 'pwned' }
  Function.prototype.apply = function () { return 'pwned' }
`

test('replaced String, Array, JSON, Promise, Reflect and Function built-ins do not move a cap or a grant', async ({ pool }) => {
  const cases: Array<[string, string, string?]> = [
    ["ctx.publish('out/x', '\u20ac'.repeat(131072))", 'LAMBKIN_OUTPUT_LIMIT', 'publishBytes'],
    ["ctx.publish('lambkin/up/result', 'x')", 'LAMBKIN_PERMISSION_DENIED'],
    ["ctx.publish('secret/x', 'x')", 'LAMBKIN_PERMISSION_DENIED'],
    ["ctx.publish('out/a\\u0001b', 'x')", 'LAMBKIN_TOPIC_INVALID'],
    ["ctx.state.big = '\u20ac'.repeat(30000)", 'LAMBKIN_OUTPUT_LIMIT', 'stateBytes'],
    ["for (let i = 0; i < 101; i++) ctx.publish('out/x', i)", 'LAMBKIN_OUTPUT_LIMIT', 'maxPublishes'],
    ["for (let i = 0; i < 3; i++) ctx.emit('\u20ac'.repeat(40000))", 'LAMBKIN_OUTPUT_LIMIT', 'emitBytes'],
    ["for (let i = 0; i < 1000; i++) ctx.log('\u20ac'.repeat(40))", 'LAMBKIN_OUTPUT_LIMIT', 'logBytes']
  ]
  for (const [body, code, limit] of cases) {
    for (const asyncHandler of [false, true]) {
      const src = `export default ${asyncHandler ? 'async ' : ''}(e, ctx) => {${TAMPER}\n${body}\nreturn 'done' }`
      const k = await pool.load(makeSpec(src, { publish: ['out/#', '#'].slice(0, code === 'LAMBKIN_PERMISSION_DENIED' && body.includes('secret') ? 1 : 2), limits: { timeoutMs: 10_000 } }))
      const o = await pool.invoke(k, {})
      failed(o, code, limit)
      assertWithinCaps(o)
    }
  }
})

test('replaced built-ins do not break a well-behaved call of the same function', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default async (e, ctx) => {${TAMPER}\nctx.publish('out/x', { n: 1 }); ctx.emit({ n: 2 }); ctx.log('hi'); ctx.state.n = 3; return { n: 4 } }`, { publish: ['out/#'] }))
  const o = await pool.invoke(k, {})
  assert.ok(o.ok, (o as OutcomeFail).error?.message)
  const ok = o as OutcomeOk
  assert.equal(ok.publishes, [{ topic: 'out/x', payload: { n: 1 }, qos: 1, retain: false }])
  assert.equal(ok.emits, [{ n: 2 }])
  assert.equal(ok.logs.map((l) => l.msg), ['hi'])
  assert.equal(ok.state, { n: 3 })
  assert.equal(ok.result, { n: 4 })
})

test('caps count UTF-8 bytes: a 131,072-character euro string is 393,216 bytes', async ({ pool }) => {
  const euro = "'\u20ac'.repeat(131072)"
  const cases: Array<[string, string]> = [
    [`ctx.publish('out/x', ${euro})`, 'publishBytes'],
    [`ctx.publish('out/x', { v: ${euro} })`, 'publishBytes'],
    ['ctx.state.v = \'\u20ac\'.repeat(25000)', 'stateBytes'],
    ['ctx.emit(\'\u20ac\'.repeat(90000))', 'emitBytes'],
    ['ctx.log(\'\u20ac\'.repeat(25000))', 'logBytes']
  ]
  for (const [body, limit] of cases) {
    const k = await pool.load(makeSpec(`export default (e, ctx) => { ${body} }`, { publish: ['out/#'] }))
    const o = await pool.invoke(k, {})
    failed(o, 'LAMBKIN_OUTPUT_LIMIT', limit)
  }
  const r = await pool.load(makeSpec("export default () => '\u20ac'.repeat(400000)", { limits: { memoryKiB: 65536 } }))
  failed(await pool.invoke(r, {}), 'LAMBKIN_OUTPUT_LIMIT', 'resultBytes')
  // Just under each cap still passes: 43,690 euro signs are 131,070 bytes.
  const fits = await pool.load(makeSpec("export default (e, ctx) => { ctx.publish('out/x', '\u20ac'.repeat(43690)); return 1 }", { publish: ['out/#'] }))
  const o = await pool.invoke(fits, {})
  assert.ok(o.ok, (o as OutcomeFail).error?.message)
  assert.is(bytes((o as OutcomeOk).publishes[0].payload), 131070)
})

test('an event is counted in UTF-8 bytes too', async () => {
  const pool = await SandboxPool.create({ workers: 1, caps: { ...IO_CAP_DEFAULTS, eventBytes: 1000 } })
  try {
    const k = await pool.load(makeSpec('export default (e) => e.s.length'))
    // 400 euro signs: 402 UTF-16 units of JSON, 1,202 bytes.
    failed(await pool.invoke(k, { s: '\u20ac'.repeat(400) }), 'LAMBKIN_INPUT_LIMIT', 'eventBytes')
    assert.ok((await pool.invoke(k, { s: '\u20ac'.repeat(300) })).ok)
  } finally {
    await pool.close()
  }
})

// The host's check alone, on envelopes no honest glue would build.
const env = (o: Record<string, unknown>): string => JSON.stringify({ ok: true, ...o })
const pub = (topic: string, payload: unknown): unknown[] => [topic, payload, 1, false]

test('[host] checkEnvelope refuses each cap passed, counted in UTF-8 bytes', () => {
  const table: Array<[string, string | undefined]> = [
    [env({ pubs: Array.from({ length: 101 }, () => pub('out/x', 1)) }), 'maxPublishes'],
    [env({ pubs: [pub('out/x', '\u20ac'.repeat(131072))] }), 'publishBytes'],
    [env({ pubs: [pub('out/x', { v: 'x'.repeat(131072) })] }), 'publishBytes'],
    [env({ emits: Array.from({ length: 101 }, () => 1) }), 'maxEmits'],
    [env({ emits: ['\u20ac'.repeat(50000), '\u20ac'.repeat(50000)] }), 'emitBytes'],
    [env({ sv: 1, s: { v: '\u20ac'.repeat(30000) } }), 'stateBytes'],
    [env({ r: '\u20ac'.repeat(400000) }), 'resultBytes'],
    [env({ logs: [['info', 1, '\u20ac'.repeat(25000)]] }), 'logBytes'],
    [JSON.stringify({ ok: false, logs: [['info', 1, 'x'.repeat(70000)]], err: { name: 'Error', message: 'm' } }), 'logBytes'],
    // Numbers that grow when written out again: 1e20 is 21 digits as stored.
    [env({ r: 'x' }).replace('"x"', '[' + Array.from({ length: 60000 }, () => '1e20').join(',') + ']'), 'resultBytes']
  ]
  for (const [e, limit] of table) {
    const f = checkEnvelope(e, caps, ['out/#'])
    assert.is(f?.code, 'LAMBKIN_OUTPUT_LIMIT', `${limit}: ${f?.message}`)
    assert.is(f?.limit, limit)
  }
})

test('[host] checkEnvelope refuses bad topics, reserved trees, missing grants and malformed parts', () => {
  const codes: Array<[string, string]> = [
    [env({ pubs: [pub('out/a\u0001b', 1)] }), 'LAMBKIN_TOPIC_INVALID'],
    [env({ pubs: [pub('out/#', 1)] }), 'LAMBKIN_TOPIC_INVALID'],
    [env({ pubs: [pub('', 1)] }), 'LAMBKIN_TOPIC_INVALID'],
    [env({ pubs: [pub('lambkin/up/result', 1)] }), 'LAMBKIN_PERMISSION_DENIED'],
    [env({ pubs: [pub('$SYS/x', 1)] }), 'LAMBKIN_PERMISSION_DENIED'],
    [env({ pubs: [pub('secret/x', 1)] }), 'LAMBKIN_PERMISSION_DENIED'],
    [env({ pubs: [['out/x', 1, 2, false]] }), 'LAMBKIN_FUNCTION_ERROR'],
    [env({ pubs: 'x' }), 'LAMBKIN_FUNCTION_ERROR'],
    [env({ logs: [['shout', 1, 'x'.repeat(20000)]] }), 'LAMBKIN_FUNCTION_ERROR'],
    [env({ s: [1], sv: 1 }), 'LAMBKIN_FUNCTION_ERROR'],
    ['{"ok":true,"r":"\\', 'LAMBKIN_FUNCTION_ERROR']
  ]
  for (const [e, code] of codes) assert.is(checkEnvelope(e, caps, ['out/#', '#'].slice(0, e.includes('secret') ? 1 : 2))?.code, code, e.slice(0, 80))
  assert.is(checkEnvelope(env({ pubs: [pub('out/x', '\u20ac'.repeat(43690))], emits: [1], r: { a: 1 }, sv: 2, s: { n: 1 } }), caps, ['out/#']), undefined)
  assert.is(checkEnvelope('{"ok":true,"r":{"echo":7}}', caps, []), undefined)
})

test('[host] a publish\'s MQTT 5 request/response properties are checked too: base64 correlation data, a valid response topic', () => {
  const withProps = (props: unknown): string => env({ pubs: [['out/x', 1, 1, false, props]] })
  assert.is(checkEnvelope(withProps({ c: 'AQID/w==', rt: 'replies/a' }), caps, ['out/#']), undefined)
  assert.is(checkEnvelope(withProps({ c: 'AQID' }), caps, ['out/#']), undefined)
  const refused: Array<[unknown, string]> = [
    [{ c: 'not base64!' }, 'LAMBKIN_FUNCTION_ERROR'],
    [{ c: 'A'.repeat(87384) }, 'LAMBKIN_FUNCTION_ERROR'],
    [{ c: 5 }, 'LAMBKIN_FUNCTION_ERROR'],
    [{ rt: 'replies/#' }, 'LAMBKIN_TOPIC_INVALID'],
    [{ rt: '' }, 'LAMBKIN_TOPIC_INVALID'],
    [{ x: 1 }, 'LAMBKIN_FUNCTION_ERROR'],
    [{}, 'LAMBKIN_FUNCTION_ERROR'],
    [[1], 'LAMBKIN_FUNCTION_ERROR']
  ]
  for (const [props, code] of refused) assert.is(checkEnvelope(withProps(props), caps, ['out/#'])?.code, code, JSON.stringify(props).slice(0, 40))
})

test('ctx.publish takes correlationData and responseTopic; a bad one throws a catchable error with its code', async ({ pool }) => {
  const key = await pool.load(makeSpec(`export default (e, ctx) => {
    const codes = []
    for (const opts of [{ correlationData: '%%' }, { correlationData: 7 }, { responseTopic: 'a/+' }]) {
      try { ctx.publish('out/x', 1, opts) } catch (err) { codes.push(err.code) }
    }
    ctx.publish('out/x', 'ok', { qos: 1, correlationData: 'AQID', responseTopic: 'replies/me' })
    return codes
  }`, { publish: ['out/#'] }))
  const o = await pool.invoke(key, {})
  if (!o.ok) assert.unreachable(o.error.message)
  const ok = o as OutcomeOk
  assert.equal(ok.result, ['LAMBKIN_FUNCTION_ERROR', 'LAMBKIN_FUNCTION_ERROR', 'LAMBKIN_TOPIC_INVALID'])
  assert.equal(ok.publishes, [{ topic: 'out/x', payload: 'ok', qos: 1, retain: false, correlationData: 'AQID', responseTopic: 'replies/me' }])
})

test('[host] an envelope longer than any output within the caps is refused before it is parsed', () => {
  const most = maxEnvelopeChars(caps)
  // Not JSON at all: had it been parsed, the answer would say "malformed".
  const f = checkEnvelope('x'.repeat(most + 1), caps, [])
  assert.is(f?.code, 'LAMBKIN_OUTPUT_LIMIT')
  assert.is(f?.limit, 'envelope')
})

test('[host] a result-only envelope is sent as its result alone, and the outcome is the same as from the whole envelope', () => {
  const spec = makeSpec('export default () => 1', { publish: ['out/#'] })
  const call = { invocationId: 'i-1', traceId: 't-1', timeoutMs: 1000, instructions: 1e6 }
  const read = (envelope: string, plain: boolean): Outcome =>
    buildOutcome({ id: 1, envelope, plain, polls: 2, memoryBytes: 3, memoryLimitBytes: 4, durationMs: 5, coldStart: false }, spec, call, 10_000)
  const plainOnes = ['{"ok":true}', '{"ok":true,"r":7}', '{"ok":true,"r":{"echo":[1,"x",null]}}', '{"ok":true,"r":"text"}']
  // Look-alikes: other keys after the result, a second "ok", escapes, a state, an error.
  const others = ['{"ok":true,"r":1,"logs":[["info",1,"m"]]}', '{"ok":true,"r":1,"pubs":[["out/a",1,1,false]]}',
    '{"ok":true,"r":1,"emits":[2]}', '{"ok":true,"sv":1,"s":{"n":1},"r":1}', '{"ok":true,"r":1,"ok":false}',
    '{"ok":true,"r":1,"err":{"name":"Error","message":"m"}}', '{"ok":true,"r":"\\u0041"}', '{"ok":true,"r":{"a":1},"ok":true}']
  for (const e of [...plainOnes, ...others]) {
    assert.is(checkEnvelope(e, caps, ['out/#']), undefined, e)
    const cut = plainResult(e, caps)
    if (plainOnes.includes(e)) assert.type(cut, 'string', e)
    assert.equal(cut === undefined ? read(e, false) : read(cut, true), read(e, false), e)
  }
  assert.is(plainResult('{"ok":true,"r":1,"logs":[]}', caps), undefined)
  assert.is(plainResult('{"ok":true,"r":{"a":1}}', caps), '{"a":1}')
  // Longer than checkEnvelope passes unparsed: left to it.
  assert.is(plainResult(`{"ok":true,"r":"${'a'.repeat(caps.stateBytes)}"}`, caps), undefined)
})

test('[host] a topic let through under one function\'s grants is checked again under another\'s, by the worker and where the outcome is made', () => {
  const e = env({ pubs: [pub('a/x', 1)] })
  const grantA = ['a/+']
  const grantB = ['b/+']
  assert.is(checkEnvelope(e, caps, grantA), undefined)
  assert.is(checkEnvelope(e, caps, grantA), undefined)
  assert.is(checkEnvelope(e, caps, grantB)?.code, 'LAMBKIN_PERMISSION_DENIED')
  // The same filters in another list are the other function's grant: checked, and allowed.
  assert.is(checkEnvelope(e, caps, ['a/+']), undefined)
  assert.is(checkEnvelope(env({ pubs: [pub('a/x', 1), pub('a/y/z', 2)] }), caps, grantA)?.code, 'LAMBKIN_PERMISSION_DENIED')
  const call = { invocationId: 'i-1', traceId: 't-1', timeoutMs: 1000, instructions: 1e6 }
  const read = (spec: ReturnType<typeof makeSpec>): Outcome =>
    buildOutcome({ id: 1, envelope: e, plain: false, polls: 2, memoryBytes: 3, memoryLimitBytes: 4, durationMs: 5, coldStart: false }, spec, call, 10_000)
  const specA = makeSpec('export default () => 1', { publish: grantA })
  assert.ok(read(specA).ok)
  assert.ok(read(specA).ok)
  failed(read(makeSpec('export default () => 1', { publish: grantB })), 'LAMBKIN_PERMISSION_DENIED')
})

test('[host] a publish over publishBytes is refused in an envelope just long enough to hold one', () => {
  const big = 'x'.repeat(caps.publishBytes - 2)
  assert.is(checkEnvelope(env({ pubs: [pub('out/x', big)] }), caps, ['out/#']), undefined)
  assert.is(checkEnvelope(env({ pubs: [pub('out/x', { v: big })] }), caps, ['out/#'])?.limit, 'publishBytes')
  // Short, but written out again sixfold longer: 1e20 is 21 digits.
  const grows = Array.from({ length: Math.ceil(caps.publishBytes / 21) + 1 }, () => '1e20').join(',')
  assert.is(checkEnvelope(env({ pubs: [pub('out/x', 'x')] }).replace('"x"', `[${grows}]`), caps, ['out/#'])?.limit, 'publishBytes')
})

test.run()

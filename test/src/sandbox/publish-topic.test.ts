// ctx.publish refuses topics no broker accepts with LAMBKIN_TOPIC_INVALID (a topic error, not
// a permission error), inside the function where it can be caught, and refuses the reserved
// `lambkin/` and `$` trees whatever function.json grants (MQTT 5 sections 1.5.4, 4.7).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SandboxPool } from '../../../src/sandbox/index.js'
import type { Outcome, OutcomeFail, OutcomeOk } from '../../../src/sandbox/index.js'
import { makeSpec } from '../../helpers/spec.js'

const test = suite<{ pool: SandboxPool }>('ctx.publish topics', { pool: undefined as never })
test.before(async (ctx) => { ctx.pool = await SandboxPool.create({ workers: 1 }) })
test.after(async (ctx) => { await ctx.pool.close() })

function failed (o: Outcome, code: string): OutcomeFail {
  if (o.ok) assert.unreachable(`expected ${code}, got success`)
  const f = o as OutcomeFail
  assert.is(f.error.code, code, f.error.message)
  return f
}

// Each as JavaScript source for the topic argument, with what makes it unacceptable.
const BAD_TOPICS: Array<[string, string]> = [
  ["'a\\u0001b'", 'control character'],
  ["'a\\u0000b'", 'control character'],
  ["'a\\nb'", 'control character'],
  ["'a\\u007fb'", 'control character'],
  ["'a\\u0085b'", 'control character'],
  ["'a\\uffffb'", 'non-character'],
  ["'a\\ufffeb'", 'non-character'],
  ["'a\\ufdd0b'", 'non-character'],
  ["'a\\ud83f\\udfffb'", 'non-character'],
  ["'a\\ud800b'", 'surrogate'],
  ["'a\\udc00b'", 'surrogate'],
  ["'a/+'", 'wildcard'],
  ["'a/#'", 'wildcard'],
  ["'a+b'", 'wildcard'],
  ["''", 'empty'],
  ["'a'.repeat(65536)", '65,535'],
  ["'\\u20ac'.repeat(21846)", '65,535'],
  ['42', 'not a string'],
  ['undefined', 'not a string']
]

test('each kind of topic no broker accepts is LAMBKIN_TOPIC_INVALID, even with a "#" grant', async ({ pool }) => {
  for (const [topic, why] of BAD_TOPICS) {
    const k = await pool.load(makeSpec(`export default (e, ctx) => { ctx.publish(${topic}, 'x', { qos: 1 }) }`, { publish: ['#'] }))
    const f = failed(await pool.invoke(k, {}), 'LAMBKIN_TOPIC_INVALID')
    assert.match(f.error.message, why, topic)
  }
})

test('a topic error is thrown inside the function, which can catch it and go on', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default (e, ctx) => {
    try { ctx.publish('a\\u0001b', 'x', { qos: 1 }) } catch (err) { ctx.publish('a/ok', err.message.slice(0, 100)); return err.code }
    return 'not thrown'
  }`, { publish: ['#'] }))
  const o = await pool.invoke(k, {})
  assert.ok(o.ok, (o as OutcomeFail).error?.message)
  assert.equal((o as OutcomeOk).publishes.map((p) => p.topic), ['a/ok'])
  assert.match((o as OutcomeOk).publishes[0].payload as string, 'control character')
  assert.is((o as OutcomeOk).result, 'LAMBKIN_TOPIC_INVALID', 'the caught error carries its code in err.code')
})

test('valid topics at the edges pass: 65,535 bytes, non-ASCII, a surrogate pair, empty levels', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default (e, ctx) => {
    ctx.publish('a'.repeat(65535), 1)
    ctx.publish('\\u20ac'.repeat(21845), 2)
    ctx.publish('caf\\u00e9/\\ud83d\\ude00/x', 3)
    ctx.publish('/a//b/', 4)
  }`, { publish: ['#'] }))
  const o = await pool.invoke(k, {})
  assert.ok(o.ok, (o as OutcomeFail).error?.message)
  assert.is((o as OutcomeOk).publishes.length, 4)
})

test('the lambkin/ tree is reserved for the cloud link, whatever the grant', async ({ pool }) => {
  for (const [topic, grant] of [['lambkin/up/result', '#'], ['lambkin', '#'], ['lambkin/up/result', 'lambkin/#'], ['lambkin/x', '+/x']]) {
    const k = await pool.load(makeSpec(`export default (e, ctx) => { ctx.publish('${topic}', 'x') }`, { publish: [grant] }))
    const f = failed(await pool.invoke(k, {}), 'LAMBKIN_PERMISSION_DENIED')
    assert.match(f.error.message, 'reserved', `${topic} with ${grant}`)
  }
  // Only the whole first level is reserved.
  const k = await pool.load(makeSpec("export default (e, ctx) => { ctx.publish('lambkins/x', 1); ctx.publish('my/lambkin/x', 2) }", { publish: ['#'] }))
  assert.ok((await pool.invoke(k, {})).ok)
})

test('$ topics are reserved for the broker, also with a $ grant', async ({ pool }) => {
  for (const [topic, grant] of [['$SYS/broker/x', '$SYS/#'], ['$share/g/x', '#'], ['$x', '$x']]) {
    const k = await pool.load(makeSpec(`export default (e, ctx) => { ctx.publish('${topic}', 'x') }`, { publish: [grant] }))
    const f = failed(await pool.invoke(k, {}), 'LAMBKIN_PERMISSION_DENIED')
    assert.match(f.error.message, 'reserved', `${topic} with ${grant}`)
  }
})

test('grants still match level by level after the glue stopped splitting topics with String.prototype.split', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default (e, ctx) => {
    const out = []
    for (const t of ['alarms/a/b', 'alarms', 'alarms/', 'alarmsx/a', 'cmd/1/set', 'cmd/1/get', 'cmd//set', 'x/y/z/w']) {
      try { ctx.publish(t, 1); out.push(t) } catch (err) { out.push('-') }
    }
    return out
  }`, { publish: ['alarms/#', 'cmd/+/set', '+/y/+/w'] }))
  const o = await pool.invoke(k, {})
  assert.ok(o.ok, (o as OutcomeFail).error?.message)
  assert.equal((o as OutcomeOk).result, ['alarms/a/b', 'alarms', 'alarms/', '-', 'cmd/1/set', '-', 'cmd//set', 'x/y/z/w'])
})

test('a topic let through is remembered by its exact string, a refused one is checked each time, past the topics remembered and over calls', async ({ pool }) => {
  // A setter on an array index must not see the glue's own bookkeeping either.
  const k = await pool.load(makeSpec(`export default (e, ctx) => {
    Object.defineProperty(Array.prototype, '0', { set () { throw new Error('setter reached') }, configurable: true })
    const out = [null]
    for (let round = 0; round < 2; round++) {
      for (const t of ['a/1', 'cmd/1/get', 'a/2', 'a/3', 'a/4', '', 'a/5', 'a/6', 'a/1', 'lambkin/x', 'a/2', 'a\u0001']) {
        try { ctx.publish(t, 1); out.push(t) } catch (err) { out.push(err.code) }
      }
    }
    try { ctx.publish(new String('a/1'), 1); out.push('object') } catch (err) { out.push(err.code) }
    delete Array.prototype[0]
    return out.slice(1)
  }`, { publish: ['a/+'] }))
  const once = ['a/1', 'LAMBKIN_PERMISSION_DENIED', 'a/2', 'a/3', 'a/4', 'LAMBKIN_TOPIC_INVALID', 'a/5', 'a/6', 'a/1', 'LAMBKIN_PERMISSION_DENIED', 'a/2', 'LAMBKIN_TOPIC_INVALID']
  for (let call = 0; call < 2; call++) {
    const o = await pool.invoke(k, {})
    assert.ok(o.ok, (o as OutcomeFail).error?.message)
    assert.equal((o as OutcomeOk).result, [...once, ...once, 'LAMBKIN_TOPIC_INVALID'])
    assert.equal((o as OutcomeOk).publishes.map((p) => p.topic), [...once, ...once].filter((t) => t.startsWith('a/')))
  }
})

test.run()

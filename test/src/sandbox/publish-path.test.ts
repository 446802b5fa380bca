// The glue's publish path (prelude.ts): a call that only publishes gets its envelope without
// the general finishing steps, each option of ctx.publish is read once and in order, absent
// options cannot be supplied by a polluted Object.prototype, and an event's hostile keys
// (`__proto__`, `constructor`) arrive as plain own data and leave again through a publish.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SandboxPool } from '../../../src/sandbox/index.js'
import type { Outcome, OutcomeFail, OutcomeOk } from '../../../src/sandbox/index.js'
import { makeSpec } from '../../helpers/spec.js'

const test = suite<{ pool: SandboxPool }>('ctx.publish path', { pool: undefined as never })
test.before(async (ctx) => { ctx.pool = await SandboxPool.create({ workers: 1 }) })
test.after(async (ctx) => { await ctx.pool.close() })

function okOf (o: Outcome): OutcomeOk {
  if (!o.ok) assert.unreachable(`expected success, got ${(o as OutcomeFail).error.code}: ${(o as OutcomeFail).error.message}`)
  return o as OutcomeOk
}

test('a call that only publishes hands on every publish in order; with a result, a log or a state change beside them too', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default (e, ctx) => {
    ctx.publish('out/a', { n: e.n }, { qos: 0 })
    ctx.publish('out/b', 'text', { retain: true })
    if (e.log) ctx.log('logged')
    if (e.state) ctx.state.n = e.n
    if (e.result) return 'done'
  }`, { publish: ['out/#'] }))
  const pubs = [{ topic: 'out/a', payload: { n: 1 }, qos: 0, retain: false }, { topic: 'out/b', payload: 'text', qos: 1, retain: true }]
  const only = okOf(await pool.invoke(k, { n: 1 }))
  assert.equal(only.publishes, pubs)
  assert.is(only.result, undefined)
  assert.equal(only.logs, [])
  assert.is(only.stateChanged, false)
  const withResult = okOf(await pool.invoke(k, { n: 1, result: true }))
  assert.equal(withResult.publishes, pubs)
  assert.is(withResult.result, 'done')
  const withLog = okOf(await pool.invoke(k, { n: 1, log: true }))
  assert.equal(withLog.publishes, pubs)
  assert.equal(withLog.logs.map((l) => l.msg), ['logged'])
  const withState = okOf(await pool.invoke(k, { n: 1, state: true }))
  assert.equal(withState.publishes, pubs)
  assert.is(withState.stateChanged, true)
  assert.equal(withState.state, { n: 1 })
})

test('a publish that threw and was caught leaves nothing to send; the call still succeeds', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default (e, ctx) => {
    try { ctx.publish('not/granted', 'x') } catch (err) { if (err.code !== 'LAMBKIN_PERMISSION_DENIED') throw err }
  }`, { publish: ['out/#'] }))
  const o = okOf(await pool.invoke(k, {}))
  assert.equal(o.publishes, [])
  assert.is(o.result, undefined)
})

test('each option is read once, in the order qos, retain, correlationData, responseTopic', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default (e, ctx) => {
    const reads = []
    const opts = {}
    for (const [name, value] of [['qos', 0], ['retain', true], ['correlationData', 'AQID'], ['responseTopic', 'out/reply']]) {
      Object.defineProperty(opts, name, { get () { reads.push(name); return value } })
    }
    ctx.publish('out/x', 'p', opts)
    return reads
  }`, { publish: ['out/#'] }))
  const o = okOf(await pool.invoke(k, {}))
  assert.equal(o.result, ['qos', 'retain', 'correlationData', 'responseTopic'])
  assert.equal(o.publishes, [{ topic: 'out/x', payload: 'p', qos: 0, retain: true, correlationData: 'AQID', responseTopic: 'out/reply' }])
})

test('a publish without options takes none from a polluted Object.prototype', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default (e, ctx) => {
    Object.prototype.qos = 0
    Object.prototype.retain = true
    Object.prototype.correlationData = 'AQID'
    Object.prototype.responseTopic = 'out/evil'
    try { ctx.publish('out/x', 'p') } finally {
      for (const name of ['qos', 'retain', 'correlationData', 'responseTopic']) delete Object.prototype[name]
    }
  }`, { publish: ['out/#'] }))
  const o = okOf(await pool.invoke(k, {}))
  assert.equal(o.publishes, [{ topic: 'out/x', payload: 'p', qos: 1, retain: false }])
})

test('an event\'s __proto__ and constructor keys are own data in the sandbox and are published back unchanged', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default (e, ctx) => {
    ctx.publish('out/x', e.payload, { qos: 1 })
    return [Object.getPrototypeOf(e.payload) === Object.prototype, Object.keys(e.payload), typeof e.payload.constructor, e.payload.__proto__]
  }`, { publish: ['out/#'] }))
  const payload = JSON.parse('{"__proto__":{"polluted":1},"constructor":"c","é€😀":"\\ud800"}') as Record<string, unknown>
  const o = okOf(await pool.invoke(k, { payload }))
  assert.equal(o.result, [true, ['__proto__', 'constructor', 'é€😀'], 'string', { polluted: 1 }])
  assert.is(JSON.stringify(o.publishes[0].payload), JSON.stringify(payload))
  assert.is(({} as Record<string, unknown>).polluted, undefined)
})

test.run()

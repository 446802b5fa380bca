// Following a rollout: to its end, through an API that stops answering for a while, and never
// for ever (a deadline, a bounded wait for an unreachable API, Ctrl-C).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { FOLLOW_MARGIN_MS, followDeadline, followRollout } from '../../cli/follow-rollout.js'
import type { RolloutEvent } from '../../cli/rollout-events.js'
import type { RolloutView } from '../../cli/rollout-view.js'
import { rolloutView } from '../helpers/rollout-view.js'

/** A clock the fake API and sleeps move forward, so nothing waits for real. */
function clock (): { now: () => number, sleep: (ms: number) => Promise<void>, advance: (ms: number) => void } {
  let t = 1_000_000
  return { now: () => t, sleep: async (ms) => { t += ms }, advance: (ms) => { t += ms } }
}

test('follows each new revision to the end, asking for the next one after the last seen', async () => {
  const views = [
    rolloutView({ a: 'applied', b: 'sent' }, { revision: 2 }),
    rolloutView({ a: 'applied', b: 'applied' }, { revision: 3, state: 'done' })
  ]
  const asked: number[] = []
  const events: RolloutEvent[] = []
  const r = await followRollout(rolloutView({ a: 'sent', b: 'sent' }), {
    fetchView: async (since) => { asked.push(since); return views.shift() as RolloutView },
    onEvent: (e) => events.push(e)
  })
  assert.equal(asked, [1, 2])
  assert.is(r.interrupted, false)
  assert.is(r.end?.ok, true)
  assert.equal(events.filter((e) => e.event === 'device').length, 2)
  assert.is(events[events.length - 1].event, 'end')
})

test('an API that is away for a while is waited for; one away too long fails with LAMBKIN_CLOUD_UNAVAILABLE', async () => {
  const c = clock()
  let calls = 0
  const away = new LambkinError(ErrorCodes.CLOUD_UNAVAILABLE, 'down')
  const r = await followRollout(rolloutView({ a: 'sent' }), {
    fetchView: async () => { if (++calls < 4) throw away; return rolloutView({ a: 'applied' }, { revision: 2, state: 'done' }) },
    onEvent: () => {},
    now: c.now,
    sleep: c.sleep
  })
  assert.is(r.end?.ok, true)
  const code = async (p: Promise<unknown>): Promise<string | undefined> => await p.then(() => undefined, (e: unknown) => (e as LambkinError).code)
  assert.is(await code(followRollout(rolloutView({ a: 'sent' }), { fetchView: async () => { throw away }, onEvent: () => {}, now: c.now, sleep: c.sleep, maxUnavailableMs: 5000 })), ErrorCodes.CLOUD_UNAVAILABLE)
  assert.is(await code(followRollout(rolloutView({ a: 'sent' }), { fetchView: async () => { throw new LambkinError(ErrorCodes.ROLLOUT_NOT_FOUND, 'gone') }, onEvent: () => {} })), ErrorCodes.ROLLOUT_NOT_FOUND)
})

test('a rollout the cloud keeps showing running is given up at the deadline with LAMBKIN_DEPLOY_TIMEOUT', async () => {
  const c = clock()
  const first = rolloutView({ a: 'sent' }, { timeoutMs: 10_000 })
  assert.is(followDeadline(first, 0), 10_000 + FOLLOW_MARGIN_MS)
  assert.is(followDeadline({ ...first, ratePerMin: 1 }, 0), 60_000 + 10_000 + FOLLOW_MARGIN_MS)
  let polls = 0
  const r = await followRollout(first, {
    fetchView: async (_since, waitMs) => { polls++; c.advance(waitMs); return first },
    onEvent: () => {},
    now: c.now
  })
  assert.ok(polls >= 2 && polls < 10, `${polls} polls`)
  assert.is(r.end?.ok, false)
  assert.is(r.end?.code, ErrorCodes.DEPLOY_TIMEOUT)
})

test('waiting for the verdict follows a done rollout while a device watches its health window, and ends ok once it passed', async () => {
  const c = clock()
  const watching = rolloutView({ a: { state: 'applied', health: 'watching', watchLeftMs: 30_000, deploymentId: 4 } }, { state: 'done', revision: 2 })
  const passed = rolloutView({ a: { state: 'applied', health: 'passed', deploymentId: 4 } }, { state: 'done', revision: 3 })
  const views = [watching, passed]
  const events: RolloutEvent[] = []
  const r = await followRollout(rolloutView({ a: 'sent' }), { fetchView: async () => views.shift() as RolloutView, onEvent: (e) => events.push(e), now: c.now, verdict: true })
  assert.equal([r.end?.ok, r.end?.exitCode], [true, 0])
  assert.equal(events.filter((e) => e.event === 'device').map((e) => e.event === 'device' ? e.health : ''), ['watching', 'passed'])
  assert.match(r.end?.message ?? '', /done: 1 healthy/)
  // Without the verdict the same rollout ends at the first done view.
  const plain = [watching, passed]
  const r2 = await followRollout(rolloutView({ a: 'sent' }), { fetchView: async () => plain.shift() as RolloutView, onEvent: () => {}, now: c.now })
  assert.equal([r2.end?.ok, plain.length], [true, 1])
})

test('waiting for the verdict: a device that never reports its window passing is given up (LAMBKIN_DEPLOY_TIMEOUT), the deadline moved once', async () => {
  const c = clock()
  const watching = rolloutView({ a: { state: 'applied', health: 'watching', watchLeftMs: 30_000, deploymentId: 4 } }, { state: 'done', timeoutMs: 10_000 })
  let polls = 0
  const r = await followRollout(watching, {
    fetchView: async (_s, waitMs) => {
      polls++
      c.advance(waitMs)
      return watching
    },
    onEvent: () => {},
    now: c.now,
    verdict: true
  })
  assert.ok(polls < 20, `${polls} polls`)
  assert.equal([r.end?.exitCode, r.end?.code], [1, ErrorCodes.DEPLOY_TIMEOUT])
  assert.match(r.end?.message ?? '', /no health verdict yet from a/)
})

test('waiting for the verdict: offline targets are waited for up to the per-device timeout, then named with exit 3', async () => {
  const c = clock()
  const first = rolloutView({ a: { state: 'applied', health: 'passed' }, b: 'offline' }, { state: 'done', timeoutMs: 10_000 })
  const start = c.now()
  const r = await followRollout(first, { fetchView: async (_s, waitMs) => { c.advance(waitMs); return first }, onEvent: () => {}, now: c.now, verdict: true })
  assert.ok(c.now() - start >= 10_000 && c.now() - start < 10_000 + FOLLOW_MARGIN_MS, `${c.now() - start} ms`)
  assert.equal([r.end?.ok, r.end?.exitCode, r.end?.code], [false, 3, ErrorCodes.DEVICE_OFFLINE])
  assert.match(r.end?.message ?? '', /1 healthy, 1 offline; still offline when the wait ended: b/)
  // One that comes back in time is followed to its verdict.
  const back = [rolloutView({ a: { state: 'applied', health: 'passed' }, b: 'sent' }, { state: 'done', revision: 2 }), rolloutView({ a: { state: 'applied', health: 'passed' }, b: { state: 'applied', health: 'passed' } }, { state: 'done', revision: 3 })]
  const r2 = await followRollout(first, { fetchView: async () => back.shift() as RolloutView, onEvent: () => {}, now: c.now, verdict: true })
  assert.equal([r2.end?.exitCode, r2.end?.message], [0, 'rollout r-1 done: 2 healthy'])
})

test('Ctrl-C stops following at once, without an outcome', async () => {
  let stop = (): void => {}
  const stopped = new Promise<void>((resolve) => { stop = resolve })
  const events: RolloutEvent[] = []
  const r = await followRollout(rolloutView({ a: 'sent' }), {
    fetchView: async () => { stop(); return await new Promise<RolloutView>(() => {}) },
    onEvent: (e) => events.push(e),
    stopped
  })
  assert.is(r.interrupted, true)
  assert.is(r.end, undefined)
  assert.ok(events.every((e) => e.event !== 'end'))
})

test.run()

// A failed commit while another call of the same stateful function waits out its retry backoff
// (docs/lifecycle.md: a failed commit leaves the trigger unacknowledged and the function's state
// is reloaded). The waiting call must still run its retry on the stored state, not fail for want
// of a state the failed commit dropped. Real QuickJS pool and LevelDB store; the store refuses
// the big call's commit by its quota (a full disk), and only the backoff sleep is faked.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { InvocationRecord } from '../../device/invoke/invoker.js'
import { invokerWorld } from '../helpers/invoker-world.js'

// Counts in ctx.state; an event with `flaky` throws on its first attempt, one with `pad` returns it.
const CODE = `let seen = {}
export default (e, ctx) => {
  if (e.flaky && !seen[e.i]) { seen[e.i] = true; throw new Error('first attempt fails') }
  ctx.state.n = (ctx.state.n ?? 0) + 1
  return { n: ctx.state.n, i: e.i, pad: e.pad ?? '' }
}`

async function until (check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.ok(check(), 'condition not reached within 5 s')
}

test('[commit failure + retry + state] a call in retry backoff when another call\'s commit fails still runs its retry on the stored state', async () => {
  const sleeps: Array<() => void> = []
  const records: InvocationRecord[] = []
  const { invoker, close } = await invokerWorld({
    functions: { count: { code: CODE, manifest: { retry: { attempts: 2, backoffMs: 10 } } } },
    store: { quotaBytes: 4096 },
    invoker: {
      sleep: async () => { await new Promise<void>((resolve) => sleeps.push(resolve)) },
      observers: [(r) => { records.push(r) }]
    }
  })
  try {
    // A stored state first: n = 1.
    assert.equal((await invoker.run('count', { source: 'test', i: 0 })).result, { n: 1, i: 0, pad: '' })
    // B fails its first attempt and waits in its backoff.
    const b = invoker.run('count', { source: 'test', i: 1, flaky: true }).then((r) => r, (e: Error) => e)
    await until(() => sleeps.length === 1)
    // A's result is bigger than the whole quota: its commit fails (LAMBKIN_STORE_FULL), unacknowledged.
    const a = await invoker.run('count', { source: 'test', i: 2, pad: 'x'.repeat(5000) }).then(() => undefined, (e: { code?: string }) => e)
    assert.is(a?.code, 'LAMBKIN_STORE_FULL')
    // B's backoff ends: its retry runs on the stored state (n = 1, A's n = 2 was never stored).
    for (const wake of sleeps.splice(0)) wake()
    const got = await b
    assert.ok(!(got instanceof Error), `B's retry was not run: ${got instanceof Error ? got.message : ''}`)
    assert.equal((got as InvocationRecord).result, { n: 2, i: 1, pad: '' })
    assert.is((got as InvocationRecord).attempts, 2)
    assert.is(invoker.inflight, 0)
  } finally {
    for (const wake of sleeps.splice(0)) wake()
    await close()
  }
})

test.run()

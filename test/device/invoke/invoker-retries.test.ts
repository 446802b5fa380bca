// `retry.attempts` counts retries after the first attempt (Lambda's MaximumRetryAttempts): the
// invocation record, the stored result or dead letter and the log line all say so the same way.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { InvocationRecord } from '../../../device/invoke/invoker.js'
import { formatInvocation } from '../../../cli/commands/device.js'
import { invokerWorld } from '../../helpers/invoker-world.js'

/** One function with `retry: { attempts: retries }` run through a real pool and store. */
async function runOnce (code: string, retries: number): Promise<{ rec: InvocationRecord, stored: Record<string, unknown>, kind: string }> {
  const { store, invoker, close } = await invokerWorld({ functions: { flaky: { code, manifest: { retry: { attempts: retries, backoffMs: 1 } } } } })
  try {
    const rec = await invoker.run('flaky', { source: 'invoke' })
    const [stored] = await store.read({ kinds: ['result', 'dead-letter'] })
    return { rec, stored: stored.data as Record<string, unknown>, kind: stored.kind }
  } finally {
    await close()
  }
}

test('retry.attempts 2 on a function that always throws: 2 retries, 3 attempts, said alike everywhere', async () => {
  const { rec, stored, kind } = await runOnce('export default () => { throw new Error("no") }', 2)
  assert.is(rec.attempts, 3)
  assert.is(kind, 'dead-letter')
  assert.is(stored.attempts, 3)
  assert.is(stored.retries, 2)
  assert.match(formatInvocation(rec), /LAMBKIN_FUNCTION_ERROR: Error: no after 2 retries \(3 attempts\)$/)
})

test('a success on the second try: 1 retry, 2 attempts', async () => {
  const { rec, stored, kind } = await runOnce('let n = 0; export default () => { if (++n < 2) throw new Error("once"); return n }', 2)
  assert.is(rec.ok, true)
  assert.is(rec.attempts, 2)
  assert.is(kind, 'result')
  assert.is(stored.result, 2)
  assert.is(stored.attempts, 2)
  assert.is(stored.retries, 1)
  assert.match(formatInvocation(rec), /\] ok \S+ after 1 retry \(2 attempts\)$/)
})

test('no retries: 1 attempt, and the log line says nothing about retries', async () => {
  const { rec, stored } = await runOnce('export default () => { throw new Error("no") }', 0)
  assert.is(rec.attempts, 1)
  assert.is(stored.attempts, 1)
  assert.is(stored.retries, 0)
  assert.not.match(formatInvocation(rec), /retr|attempt/)
})

test.run()

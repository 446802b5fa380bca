// Two stateful functions on one trigger topic while one's state commits fail (docs/durability.md,
// "A commit that fails is not acknowledged", "A link blip"): `big` returns a result larger than
// the whole outbox quota the first time it sees every fifth message (LAMBKIN_STORE_FULL), so that
// message stays unacknowledged and the broker sends it again; `small` counts every message and
// its commits never fail. The calls `big` ran after a refused one fail with it and run again. In
// the end each function has one result per message and counts 1..N, each message once: the
// redelivery of a message `small` already stored is not run again for it. A third function,
// `reader`, only reads its state (seeded by a first message) and must see it unchanged.
// Real `lambkin device`, aedes, MQTT.js, LevelDB.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fieldRig, onceEach, resultsOf, until } from './fixtures/state-chain-field.js'

const N = 60
const QUOTA = 256 * 1024

const COUNT = 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { id: e.payload.id, n: ctx.state.n } }'
// Module state lives as long as the sandbox instance: the first run of every fifth message is over the quota.
const BIG = `const seen = new Set()
export default (e, ctx) => {
  const id = e.payload.id
  ctx.state.n = (ctx.state.n ?? 0) + 1
  const big = id % 5 === 2 && !seen.has(id)
  seen.add(id)
  return { id, n: ctx.state.n, pad: big ? 'b'.repeat(${QUOTA + 1024}) : '' }
}`
const READER = 'export default (e, ctx) => { if (e.payload.seed === true) ctx.state.seed = 7; return { id: e.payload.id, seed: ctx.state.seed ?? 0 } }'

test('[state chain + shared topic] one function over the quota: the other counts each message once, and both end with one result per message', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-state-field-shared-'))
  const trigger = { triggers: [{ mqtt: 'field/+', qos: 1 }] }
  const rig = await fieldRig(root, path.join(root, 'data'), 'state-field-shared', {
    big: { manifest: trigger, code: BIG },
    small: { manifest: trigger, code: COUNT },
    reader: { manifest: trigger, code: READER }
  }, { outbox: { quotaBytes: QUOTA } })
  try {
    await rig.start()
    const ids = Array.from({ length: N }, (_, i) => i)
    await rig.send([0], () => ({ seed: true }))
    await until(() => 'message 0 acknowledged', () => rig.acked.has(0))
    await rig.send(ids.slice(1))
    await until(() => `all ${N} acknowledged (have ${rig.acked.size})`, () => rig.acked.size === N, 120_000)
    assert.match(rig.agent().stderr(), /LAMBKIN_STORE_FULL/, 'the oversized results were refused')
    assert.match(rig.agent().stderr(), /\[big\] LAMBKIN_STORE_ERROR: .*it ran after an earlier call whose change of ctx\.state was not stored/, 'calls that ran on a refused state failed with it')
    assert.equal(await rig.agent().stop('SIGTERM'), { code: 0, signal: null }, rig.agent().stderr().slice(-3000))
    const dump = await rig.outbox()
    for (const fn of ['big', 'small']) {
      const results = resultsOf(dump, fn)
      const { twice, missing } = onceEach(results, ids)
      assert.equal(twice, [], `${fn}: messages with more than one result`)
      assert.equal(missing, [], `${fn}: messages without a result`)
      assert.equal(results.map((r) => r.n), ids.map((i) => i + 1), `${fn}: the counts in commit order are 1..${N}, each message once`)
    }
    const reads = resultsOf(dump, 'reader')
    assert.equal(onceEach(reads, ids), { twice: [], missing: [] }, 'reader: one result per message')
    assert.equal(reads.filter((r) => r.seed !== 7).map((r) => r.id), [], 'reader: every call saw the stored seed')
  } finally {
    await rig.close()
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

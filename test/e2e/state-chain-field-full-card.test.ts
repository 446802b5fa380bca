// A full card mid-burst under three stateful functions sharing one trigger topic
// (docs/durability.md, "A full card", "A commit that fails is not acknowledged"): the agent's
// data folder on a small tmpfs fills with a little room left while the burst runs, so some group
// commits are written and one fails, the store faults and the messages stay unacknowledged; the
// card is freed, the store reopens, the broker sends them again. `a` and `b` count every message;
// `mixed` counts only the messages whose id is not a multiple of 3 and only reads its count for
// the others. In the end each function has exactly one result per message; `a` and `b` count
// 1..N in commit order, and each of `mixed`'s results saw exactly the adds stored before it (a
// read of a count never stored would show up here). Real `lambkin device`, aedes, LevelDB, tmpfs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import path from 'node:path'
import { mountTmpfs } from '../helpers/tmpfs.js'
import { fieldRig, onceEach, resultsOf, until } from './fixtures/state-chain-field.js'

const N = 200

const COUNT = 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { id: e.payload.id, n: ctx.state.n, pad: \'p\'.repeat(1500) } }'
const MIXED = `export default (e, ctx) => {
  const add = e.payload.id % 3 !== 0
  if (add) ctx.state.n = (ctx.state.n ?? 0) + 1
  return { id: e.payload.id, n: ctx.state.n ?? 0, add, pad: 'm'.repeat(1500) }
}`

test('[state chain + full card] three functions on one topic, the card full mid-burst then freed: each message once per function, every read saw only stored counts', async () => {
  const disk = mountTmpfs(8 * 1024 * 1024)
  if ('skip' in disk) { console.log(`skipped: ${disk.skip}`); return }
  const trigger = { triggers: [{ mqtt: 'field/+', qos: 1 }] }
  const rig = await fieldRig(disk.dir, path.join(disk.dir, 'data'), 'state-field-full', {
    a: { manifest: trigger, code: COUNT },
    b: { manifest: trigger, code: COUNT },
    mixed: { manifest: trigger, code: MIXED }
  })
  try {
    await rig.start()
    const ids = Array.from({ length: N }, (_, i) => i)
    await rig.send(ids.slice(0, 20))
    await until(() => `the first 20 acknowledged (have ${rig.acked.size})`, () => rig.acked.size === 20)
    disk.fill(48 * 1024)
    const sending = rig.send(ids.slice(20))
    await rig.agent().waitFor('stderr', /LAMBKIN_STORE_(FAULT|FULL|ERROR)/, 60_000)
    const ackedAtFault = rig.acked.size
    disk.free()
    await sending
    await until(() => `all ${N} acknowledged (have ${rig.acked.size})`, () => rig.acked.size === N, 180_000)
    assert.ok(ackedAtFault < N, 'the card filled mid-burst')
    assert.equal(await rig.agent().stop('SIGTERM'), { code: 0, signal: null }, rig.agent().stderr().slice(-3000))
    const dump = await rig.outbox()
    for (const fn of ['a', 'b', 'mixed']) {
      assert.equal(onceEach(resultsOf(dump, fn), ids), { twice: [], missing: [] }, `${fn}: one result per message`)
    }
    for (const fn of ['a', 'b']) {
      assert.equal(resultsOf(dump, fn).map((r) => r.n), ids.map((i) => i + 1), `${fn}: counts 1..${N} in commit order`)
    }
    let adds = 0
    const wrong: unknown[] = []
    for (const r of resultsOf(dump, 'mixed')) {
      if (r.add === true) adds++
      if (r.n !== adds) wrong.push({ id: r.id, add: r.add, n: r.n, storedAdds: adds })
    }
    assert.equal(wrong.slice(0, 5), [], `mixed: ${wrong.length} results saw a count other than the adds stored before them`)
    console.log(`full card: ${ackedAtFault} of ${N} acknowledged when the store faulted`)
  } finally {
    await rig.close()
    disk.unmount()
  }
})

test.run()

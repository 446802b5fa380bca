// The soak's metered link (docs/architecture.md, "Cloud side"; device/sync/upload-budget.ts): a
// daily upload cap is reached before midnight UTC and reset at it. The agent runs in this
// process on the fake clock (test/helpers/fake-clock.ts) so the day boundary comes in seconds;
// the cloud is a real `lambkin cloud` child process. A schedule makes a record every (fake)
// second; past the cap they wait in the outbox, and a backlog larger than a whole day's cap
// goes a day's worth at a time, never stuck, in seq order, each seq once [W4].
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { fixture } from '../helpers/agent.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { DEVICE_ID, Soak, until } from '../helpers/soak.js'
import type { Agent } from '../../device/index.js'
import type { CloudLink } from '../../device/sync/cloud-link.js'

/** Bytes per UTC day: about 25 of this test's records. */
const CAP = 8000
const MIDNIGHT = Date.parse('2026-03-15T00:00:00Z')

test('a daily upload cap is reached before midnight UTC and reset at it; a backlog over a day\'s cap goes a day\'s worth at a time, in order', async () => {
  const s = await Soak.create()
  const clock = new FakeClock(MIDNIGHT - 110_000)
  const f = fixture({
    tick: { manifest: { triggers: [{ schedule: '* * * * * *' }] }, code: "export default (e) => ({ at: e.scheduledTime, pad: 'p'.repeat(100) })" }
  })
  let agent: Agent | undefined
  try {
    const cloud = { url: s.env.BROKER, password: s.secret, dailyUploadBytes: CAP, heartbeatMs: 5000, reconnectMs: 100, reconnectMaxMs: 500 }
    agent = await f.start({ id: DEVICE_ID, metricsSnapshotMs: 3_600_000, cloud }, { clock })
    const link = agent.cloudLink as CloudLink
    let made = 0
    agent.on('invocation', () => { made++ })
    await until('the cloud link to come online', () => link.state === 'online', 30_000)
    /** Moves the fake clock to `to`, a quarter second at a time, letting real I/O run between. */
    const drive = async (to: number): Promise<void> => {
      while (clock.now() < to) {
        await clock.advance(250)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
    const highWater = async (): Promise<number> => (await s.device()).highWater
    /** Everything the link sent is acknowledged and stored: what is left waits for the budget. */
    const settled = async (): Promise<boolean> => { const hw = await highWater(); return link.counters.acked === hw && link.counters.recordsSent === hw }

    // Day one: the cap is reached and records wait.
    await drive(MIDNIGHT - 10_000)
    await until('the uploads of day one to settle with 20 records held back', async () => await settled() && made - await highWater() >= 20)
    const dayOne = await highWater()
    assert.ok(link.sentToday <= CAP, `day one sent ${link.sentToday} bytes, within the cap of ${CAP}`)
    assert.ok(link.sentToday > CAP / 2, `day one sent up to near the cap (${link.sentToday} bytes)`)
    assert.ok(dayOne < made, 'records wait in the outbox')

    // Past midnight UTC: a new day's budget, and a backlog larger than it.
    await drive(MIDNIGHT + 20_000)
    await until('uploads to resume after midnight', async () => await highWater() > dayOne)
    await until('the uploads of day two to settle', settled)
    const dayTwo = await highWater()
    assert.ok(link.sentToday <= CAP, `day two sent ${link.sentToday} bytes, within the cap`)
    assert.ok(dayTwo < made, 'the backlog is larger than a day\'s cap: some still waits')

    const { records } = (await s.api<{ records: Array<{ seq: number, fn?: string }> }>('GET', `/v1/devices/${DEVICE_ID}/records?after=0&limit=10000`)).body
    assert.equal(records.map((r) => r.seq), Array.from({ length: records.length }, (_, i) => i + 1), 'seqs 1, 2, 3..., each once')
    assert.is(records.length, dayTwo)
    console.log(`soak upload cap: ${CAP} bytes a UTC day; ${dayOne} records uploaded on day one, ${dayTwo - dayOne} on day two, ${made - dayTwo} waiting`)
  } finally {
    await agent?.close()
    f.cleanup()
    await s.cleanup()
  }
})

test.run()

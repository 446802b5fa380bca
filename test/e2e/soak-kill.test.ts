// The soak's kills (docs/architecture.md, "Durability"; DESIGN section 6): `lambkin device` and
// `lambkin cloud` as child processes, each SIGKILLed three times under a steady QoS 1 load from
// a publisher with its own persistent session, Mosquitto as the trigger broker, and hostile
// functions (memory bomb, busy loop, log flood) running beside the healthy ones all along.
// Every message the broker acknowledged has its result in the cloud exactly once, in order per
// topic, on one stream whose seqs run 1, 2, 3... [W4]; the healthy functions keep their budget.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Load, Soak, deliveryProblems, figuresLine, isolationProblems, until } from '../helpers/soak.js'

const KILLS = 3
/** Records the cloud must have gained between two kills, so each kill lands on a working pipeline. */
const PROGRESS = 120

test('SIGKILL of the agent and of the cloud, three times each, under QoS 1 load: each acknowledged message\'s result reaches the cloud exactly once, in order', async () => {
  const s = await Soak.create()
  const load = new Load(s.brokerUrl, { ratePerSec: 40 })
  try {
    await s.startAgent()
    load.start()
    const stream = async (): Promise<{ id: string | null, highWater: number }> => {
      const d = await s.device()
      return { id: d.stream, highWater: d.highWater }
    }
    const progressed = async (what: string): Promise<void> => {
      const from = (await stream()).highWater
      await until(`${what}: the cloud to gain ${PROGRESS} records past ${from}`, async () => (await stream()).highWater >= from + PROGRESS)
    }
    for (let i = 0; i < KILLS; i++) {
      await progressed(`before agent kill ${i + 1}`)
      assert.is((await s.stopAgent('SIGKILL'))?.signal, 'SIGKILL')
      await s.startAgent()
      await progressed(`before cloud kill ${i + 1}`)
      assert.is((await s.stopCloud('SIGKILL'))?.signal, 'SIGKILL')
      await s.startCloud()
    }
    await load.stop()
    const sent = load.sent
    const { id } = await stream()
    assert.ok(id !== null)
    await until(`the cloud to hold a result for each of the ${sent} messages`, async () => (await s.records(id ?? undefined, 'work')).length >= sent, 120_000)

    const records = await s.records(id ?? undefined)
    const device = await s.device()
    const figures = s.figures(records, sent)
    console.log(figuresLine('soak kill', figures))
    assert.equal(deliveryProblems(records, sent), [])
    assert.equal(isolationProblems(records), [])
    assert.is(device.streams, 1, 'kills start no new stream')
    assert.is(device.conflict, null)
    assert.is(figures.agentKills, KILLS)
    assert.is(figures.cloudKills, KILLS)
    // A clean stop after the cloud's kills ends the process too (device/links/mqtt-end.ts).
    const agent = s.agent
    assert.equal(await s.stopAgent('SIGTERM'), { code: 0, signal: null }, agent?.stderr().slice(-3000))
  } finally {
    await load.close()
    await s.cleanup()
  }
})

test.run()

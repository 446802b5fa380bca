// The soak's broker outage (DESIGN section 4: a dependency that is down degrades the agent,
// never stops it): Mosquitto, the trigger broker, stops under a steady QoS 1 load while the
// hostile functions run beside the healthy ones. Meanwhile the sensor (a thermal-zone file) and
// the schedules keep running and their results keep reaching the cloud; the probe's QoS 1
// publishes wait in the store and the publisher's messages in its own session. When Mosquitto
// returns (its sessions saved on disk), everything drains in order, and the agent's RSS, sampled
// all along one life, levels off.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Load, Outputs, Soak, deliveryProblems, figuresLine, isolationProblems, until } from '../helpers/soak.js'

/** RSS may grow this much from the first third of the run to the last and still count as level. */
const RSS_GROWTH = 1.25

test('the trigger broker down under load: sensors and schedules keep running, everything drains in order when it returns, RSS levels off', async () => {
  const s = await Soak.create()
  const load = new Load(s.brokerUrl, { ratePerSec: 30 })
  const outputs = new Outputs(s.brokerUrl)
  const sensor = setInterval(() => s.writeSensor(), 100)
  try {
    await s.startAgent()
    await outputs.ready()
    load.start()
    const since = async (fn: string, t: number): Promise<number> => (await s.records(undefined, fn)).filter((r) => r.kind === 'result' && r.time >= t).length
    await until('200 results of the load in the cloud', async () => (await s.records(undefined, 'work')).length >= 200)

    await s.stopBroker()
    const downAt = Date.now()
    const sentBefore = load.sent
    // Down "for a while": until the schedule and the sensor have shown, in the cloud, that they ran on.
    await until('ticks and probe readings made while the broker is down to reach the cloud', async () => await since('tick', downAt) >= 8 && await since('probe', downAt) >= 20)
    assert.ok(load.sent > sentBefore, 'the load went on into the publisher\'s own queue')
    await s.startBroker()

    await load.stop()
    clearInterval(sensor)
    const sent = load.sent
    await until(`the cloud to hold a result for each of the ${sent} messages`, async () => (await s.records(undefined, 'work')).length >= sent, 120_000)
    const probes = async (): Promise<number[]> => (await s.records(undefined, 'probe')).filter((r) => r.kind === 'result').map((r) => (r.data.result as { v: number }).v)
    await until('every probe reading the cloud holds to have reached the subscriber', async () => { const have = new Set(outputs.probe); return (await probes()).every((v) => have.has(v)) })
    await until('every done/ publish to reach the subscriber', () => new Set(outputs.done.map((d) => d.id)).size >= sent)

    const records = await s.records()
    const figures = s.figures(records, sent)
    console.log(figuresLine('soak broker down', figures))
    assert.equal(deliveryProblems(records, sent), [])
    assert.equal(isolationProblems(records), [])
    // In order: QoS 1 may bring a copy again after the outage, but no reading overtakes an older one.
    const firsts = outputs.probe.filter((v, i) => outputs.probe.indexOf(v) === i)
    assert.equal(firsts, [...firsts].sort((a, b) => a - b), 'probe publishes drained in the order they were made')
    const doneFirsts = outputs.done.map((d) => d.id).filter((id, i, all) => all.indexOf(id) === i)
    for (let k = 0; k < 3; k++) {
      const ofTopic = doneFirsts.filter((id) => id % 3 === k)
      assert.equal(ofTopic, [...ofTopic].sort((a, b) => a - b), `done/${k} publishes in order`)
    }
    const samples = s.lifeSamples()
    assert.ok(samples.length >= 30, `RSS sampled all along (${samples.length} samples)`)
    assert.ok(figures.rssLastThirdBytes <= figures.rssFirstThirdBytes * RSS_GROWTH, `RSS levels off: the last third's high-water ${figures.rssLastThirdBytes} is within ${RSS_GROWTH}x the first third's ${figures.rssFirstThirdBytes}`)
    assert.equal(await s.stopAgent('SIGTERM'), { code: 0, signal: null })
  } finally {
    clearInterval(sensor)
    await load.close()
    await outputs.close()
    await s.cleanup()
  }
})

test.run()

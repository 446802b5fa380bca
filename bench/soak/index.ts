// bench/soak: the soak of test/e2e/soak-*.test.ts run longer, as one run: `lambkin device` and
// `lambkin cloud` child processes, Mosquitto as the trigger broker, a steady QoS 1 load
// (SOAK_RATE messages/s, default 50) for SOAK_SECONDS (default 240), the hostile functions
// beside the healthy ones all along, and every SOAK_CYCLE_SECONDS (default 20) one of: a
// SIGKILL of the agent, a SIGKILL of the cloud, the trigger broker stopped until schedules and
// sensors have shown they run on. Then it drains and checks what the tests check (each result
// once, in order, seqs 1, 2, 3...; no healthy dead letter, p99 in budget). Figures, no
// timings asserted; the last line is a summary.
import { Load, Outputs, Soak, deliveryProblems, figuresLine, isolationProblems, until } from '../../test/helpers/soak.js'

const SECONDS = Number(process.env.SOAK_SECONDS ?? 240)
const RATE = Number(process.env.SOAK_RATE ?? 50)
const CYCLE_SECONDS = Number(process.env.SOAK_CYCLE_SECONDS ?? 20)

const s = await Soak.create()
const load = new Load(s.brokerUrl, { ratePerSec: RATE })
const outputs = new Outputs(s.brokerUrl)
const sensor = setInterval(() => s.writeSensor(), 100)
try {
  await s.startAgent()
  await outputs.ready()
  const started = Date.now()
  load.start()
  const events: string[] = []
  for (let cycle = 0; Date.now() - started < SECONDS * 1000; cycle++) {
    await new Promise((resolve) => setTimeout(resolve, CYCLE_SECONDS * 1000))
    const at = `${Math.round((Date.now() - started) / 1000)} s`
    if (cycle % 3 === 0) {
      await s.stopAgent('SIGKILL')
      await s.startAgent()
      events.push(`${at} agent SIGKILL`)
    } else if (cycle % 3 === 1) {
      await s.stopCloud('SIGKILL')
      await s.startCloud()
      events.push(`${at} cloud SIGKILL`)
    } else {
      await s.stopBroker()
      const downAt = Date.now()
      await until('ticks made while the broker is down to reach the cloud', async () => (await s.records(undefined, 'tick')).filter((r) => r.time >= downAt).length >= 5, 120_000)
      await s.startBroker()
      events.push(`${at} broker down ${Math.round((Date.now() - downAt) / 1000)} s`)
    }
    console.log(`${events[events.length - 1]}; ${load.acked.size} messages acknowledged by the broker so far`)
  }
  await load.stop(120_000)
  clearInterval(sensor)
  const sent = load.sent
  const elapsed = (Date.now() - started) / 1000
  await until(`the cloud to hold a result for each of the ${sent} messages`, async () => (await s.records(undefined, 'work')).length >= sent, 300_000)
    .catch((err: Error) => console.log(err.message))
  const records = await s.records()
  const device = await s.device()
  const figures = s.figures(records, sent)
  const problems = [...deliveryProblems(records, sent), ...isolationProblems(records)]
  if (device.streams !== 1) problems.push(`${device.streams} streams`)
  if (device.conflict !== null) problems.push(`conflict: ${JSON.stringify(device.conflict)}`)
  const stopped = await s.stopAgent('SIGTERM')
  if (stopped?.code !== 0) problems.push(`the agent's SIGTERM ended as ${JSON.stringify(stopped)}`)
  console.log(figuresLine('figures', figures))
  console.log(problems.length === 0 ? 'checks: every message\'s result in the cloud once, in order per topic; seqs 1, 2, 3... on one stream; no healthy dead letter; p99 in budget' : `PROBLEMS:\n  ${problems.join('\n  ')}`)
  const mib = (b: number): string => (b / 1024 / 1024).toFixed(1)
  console.log(`soak: ${sent} QoS 1 messages in ${Math.round(elapsed)} s at ${RATE}/s, ${figures.agentKills} agent kills, ${figures.cloudKills} cloud kills, ${figures.brokerOutages} broker outages, ${problems.length === 0 ? 'no problem' : `${problems.length} problems`}; healthy p99 ${figures.p99DurationMs.toFixed(1)} ms in the sandbox (budget 1000 ms); agent RSS high-water ${mib(figures.rssHighWaterBytes)} MiB, longest life ${mib(figures.rssFirstThirdBytes)} -> ${mib(figures.rssLastThirdBytes)} MiB first to last third`)
  process.exitCode = problems.length === 0 ? 0 : 1
} finally {
  clearInterval(sensor)
  await load.close()
  await outputs.close()
  await s.cleanup()
}

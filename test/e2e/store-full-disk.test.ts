// A full card (docs/architecture.md, "Durability"): an agent whose data folder sits on a small
// tmpfs that fills up. Its store faults at the first failed write and takes nothing more, the
// sensor's QoS 1 messages stay unacknowledged, status and metrics say so; once there is room
// again the store reopens and verifies itself, with no restart, and every message acknowledged
// after the fault is still there after a kill -9, with seqs that never went back. Real agent
// process, aedes, MQTT.js, LevelDB, tmpfs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import path from 'node:path'
import mqtt from 'mqtt'
import { readOutbox, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import { mountTmpfs } from '../helpers/tmpfs.js'

async function until (what: string, check: () => boolean | Promise<boolean>, boundMs = 60_000): Promise<void> {
  const end = Date.now() + boundMs
  while (!(await check())) {
    if (Date.now() > end) assert.unreachable(`${what}: not reached`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test('full disk: nothing acknowledged is lost, the store recovers by itself, and the last seq never rolls back', async () => {
  const disk = mountTmpfs(8 * 1024 * 1024)
  if ('skip' in disk) { console.log(`skipped: ${disk.skip}`); return }
  const data = path.join(disk.dir, 'data')
  const functions = writeFunctions(path.join(disk.dir, 'functions'), {
    rec: { manifest: { triggers: [{ mqtt: 'full/+', qos: 1 }] }, code: 'export default (e) => ({ id: Number(e.topic.split("/")[1]), pad: "p".repeat(2000) })' }
  })
  const agent = startLambkin(['device', '--id', 'e2e-full', '--data', data, '--functions', functions, '--broker-port', '0', '--metrics-port', '0', '--quiet'])
  let sensor: mqtt.MqttClient | undefined
  try {
    const ready = await agent.waitFor('stdout', /broker mqtt:\/\/127\.0\.0\.1:(\d+); metrics (http:\/\/\S+\/metrics)/)
    const metrics = async (): Promise<string> => await (await fetch(ready[2] as string)).text()
    sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${ready[1]}`, { clientId: 'full-sensor', clean: false, reconnectPeriod: 200 })
    const acked = new Set<number>()
    const send = (from: number, n: number): void => {
      for (let i = from; i < from + n; i++) void sensor?.publishAsync(`full/${i}`, 'x', { qos: 1 }).then(() => acked.add(i), () => {})
    }
    send(0, 10)
    await until('the first 10 acknowledged', () => acked.size === 10)

    disk.fill()
    send(10, 20)
    await agent.waitFor('stderr', /LAMBKIN_STORE_FAULT: the outbox store failed a write/, 60_000)
    assert.match(await metrics(), /lambkin_store_faulted 1\b/)
    assert.ok(acked.size < 30, `messages are not acknowledged while the store is faulted (${acked.size} of 30)`)

    disk.free()
    await agent.waitFor('stderr', /the outbox store is reopened and checked/, 90_000)
    await until(`all 30 acknowledged (have ${acked.size})`, () => acked.size === 30, 90_000)
    send(30, 40)
    await until(`the 40 after the fault acknowledged (have ${acked.size})`, () => acked.size === 70, 60_000)
    const m = await metrics()
    assert.match(m, /lambkin_store_faulted 0\b/)
    assert.match(m, /lambkin_store_faults_total 1\b/)
    assert.not.match(agent.stderr(), /WARNING: after reopening/, 'nothing acknowledged was missing at the reopen')

    await sensor.endAsync(true)
    sensor = undefined
    await agent.stop('SIGKILL')
    const { records, stats } = await readOutbox(data)
    const ids = records.filter((r) => r.kind === 'result').map((r) => Number((r.data.result as { id: number }).id))
    const missing = [...acked].filter((i) => !ids.includes(i)).sort((a, b) => a - b)
    assert.equal(missing, [], 'acknowledged messages without a stored result after the restart')
    const seqs = records.map((r) => r.seq)
    assert.ok(stats.lastSeq >= Math.max(...seqs), 'the last seq covers every stored record')
    assert.is(new Set(seqs).size, seqs.length)
  } finally {
    sensor?.end(true)
    if (agent.child.exitCode === null) await agent.stop('SIGKILL')
    disk.unmount()
  }
})

test.run()

// Two examples in a real agent, as a board runs them: the fan controller reading a sysfs-style
// file as its thermal zone, and request/reply over MQTT 5 on Mosquitto, the reply carrying the
// request's correlation data (MQTT 5 section 4.10) through the outbox to the requester.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import type { Agent, InvocationRecord } from '../../device/index.js'
import { fixture } from '../helpers/agent.js'
import { startMosquitto } from '../helpers/brokers.js'

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url))

/** The example's code and manifest (without its name), with `patch` applied to the manifest. */
function example (
  name: string,
  patch: (m: Record<string, unknown>) => Record<string, unknown> = (m) => m
): { manifest: Record<string, unknown>; code: string } {
  const { name: _n, ...manifest } = JSON.parse(readFileSync(path.join(EXAMPLES, name, 'function.json'), 'utf8')) as Record<string, unknown>
  return { manifest: patch(manifest), code: readFileSync(path.join(EXAMPLES, name, 'index.js'), 'utf8') }
}

function next (agent: Agent, fn: string): Promise<InvocationRecord> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no invocation of ${fn}`)), 20_000)
    const on = (r: InvocationRecord): void => { if (r.fn !== fn) return; clearTimeout(t); agent.off('invocation', on); resolve(r) }
    agent.on('invocation', on)
  })
}

test('fan-controller on a thermal zone file: the fan turns on at 65 °C, stays on at 60, turns off at 55', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-thermal-'))
  const zone = path.join(dir, 'temp')
  writeFileSync(zone, '60000\n')
  const f = fixture({ 'fan-controller': example('fan-controller', (m) => ({ ...m, triggers: (m.triggers as Array<Record<string, unknown>>).map((t) => ({ ...t, path: zone, everyMs: 50 })) })) })
  let agent: Agent | undefined
  try {
    // The first reading may come before start() resolves: the listeners go on as it is made.
    const commands: string[] = []
    const first = new Promise<InvocationRecord>((resolve) => {
      void f.start({ brokerPort: 0 }).then((a) => {
        agent = a
        a.on('publish', (p: { topic: string, payload: string }) => commands.push(`${p.topic} ${p.payload}`))
        const on = (r: InvocationRecord): void => { if (r.fn === 'fan-controller') { a.off('invocation', on); resolve(r) } }
        a.on('invocation', on)
      })
    })
    const initial = await first
    const a = agent as unknown as Agent
    assert.equal(initial.result, { temperature: 60, on: false })
    for (const [milli, on] of [[66_000, true], [60_000, true], [54_500, false]] as const) {
      const run = next(a, 'fan-controller')
      writeFileSync(zone, `${milli}\n`)
      assert.equal((await run).result, { temperature: milli / 1000, on })
    }
    assert.equal(commands.map((c) => [c.slice(0, c.indexOf(' ')), JSON.parse(c.slice(c.indexOf(' ') + 1)).on]), [['fans/soc/set', false], ['fans/soc/set', true], ['fans/soc/set', false]], 'one command per change, none while between the thresholds')
  } finally {
    await agent?.close()
    f.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('request-reply over MQTT 5: the reply reaches the response topic with the request\'s correlation data', async () => {
  if (!existsSync('/usr/sbin/mosquitto')) { console.log('  skipped: /usr/sbin/mosquitto is not installed (apt-get install mosquitto)'); return }
  const broker = await startMosquitto()
  const f = fixture({ 'request-reply': example('request-reply') })
  let agent: Agent | undefined
  const requester = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'requester', reconnectPeriod: 0 })
  try {
    agent = await f.start({ mqtt: { url: broker.url } })
    const replies: Array<{ topic: string, payload: string, correlation?: Buffer }> = []
    requester.on('message', (topic, payload, packet) => replies.push({ topic, payload: payload.toString(), correlation: packet.properties?.correlationData as Buffer | undefined }))
    await requester.subscribeAsync('replies/#', { qos: 1 })
    const answered = next(agent, 'request-reply')
    const correlation = Buffer.from([0x01, 0x02, 0x03, 0xff, 0x00])
    await requester.publishAsync('rpc/gh-01/dew-point', JSON.stringify({ temperature: 20, humidity: 50 }), { qos: 1, properties: { responseTopic: 'replies/requester', correlationData: correlation } })
    assert.equal((await answered).result, { dewPoint: 9.3 })
    const deadline = Date.now() + 10_000
    while (replies.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    assert.is(replies.length, 1, 'one reply')
    assert.is(replies[0].topic, 'replies/requester')
    assert.equal(JSON.parse(replies[0].payload), { dewPoint: 9.3 })
    assert.ok(replies[0].correlation !== undefined && Buffer.compare(replies[0].correlation, correlation) === 0, `correlation data ${replies[0].correlation?.toString('hex') ?? 'missing'}`)
  } finally {
    await requester.endAsync()
    await agent?.close()
    await broker.close()
    f.cleanup()
  }
})

test.run()

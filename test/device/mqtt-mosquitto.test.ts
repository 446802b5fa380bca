// Trigger messages through a real Mosquitto (an external broker with persistent sessions,
// retained messages and shared subscriptions): what a poison message, a retained message and
// a $share filter do across agent restarts and between agents.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import mqtt from 'mqtt'
import type { Agent } from '../../device/index.js'
import type { InvocationRecord } from '../../device/index.js'
import { fixture, invocations } from '../helpers/agent.js'
import { startMosquitto } from '../helpers/brokers.js'

const SHOW = 'export default (e) => ({ topic: e.topic, retain: e.retain })'

test('[poison] a 5,000-deep QoS 1 payload becomes one dead letter and is acknowledged: a restart with the same session gets no redelivery', async () => {
  const broker = await startMosquitto()
  const f = fixture({ deep: { manifest: { triggers: [{ mqtt: 'deep/+', qos: 1 }] }, code: 'export default (e) => e.topic' } })
  const c = await mqtt.connectAsync(broker.url)
  try {
    const config = { mqtt: { url: broker.url, clientId: 'poison-agent' } }
    const first = await f.start(config)
    // Awaited together: a publish that is never acknowledged fails the test when the wait times out.
    const [dead] = await Promise.all([invocations(first, 1), c.publishAsync('deep/a', '['.repeat(5000) + ']'.repeat(5000), { qos: 1 })])
    assert.equal(dead.map((r) => r.code), ['LAMBKIN_INPUT_LIMIT'])
    await first.close()
    // The same client id resumes the session: Mosquitto sends unacknowledged messages first,
    // so once the marker ran, a redelivery would have run before it.
    const second = await f.start(config)
    await Promise.all([invocations(second, 1, (r) => r.result === 'deep/marker'), c.publishAsync('deep/marker', '1', { qos: 1 })])
    await second.close()
    const deadLetters = await f.records('dead-letter')
    assert.is(deadLetters.length, 1)
    assert.equal((deadLetters[0].data as { error: { code: string } }).error.code, 'LAMBKIN_INPUT_LIMIT')
    assert.equal((await f.records('result')).map((r) => (r.data as { result: unknown }).result), ['deep/marker'])
  } finally {
    await c.endAsync()
    await broker.close()
    f.cleanup()
  }
})

test('[retain] event.retain tells a retained message from a live one; retainHandling 2 never gets one, 1 only on the first subscribe', async () => {
  const broker = await startMosquitto()
  const f = fixture({
    all: { manifest: { triggers: [{ mqtt: 'state/+', qos: 1 }] }, code: SHOW },
    fresh: { manifest: { triggers: [{ mqtt: 'state/+', qos: 1, retainHandling: 2 }] }, code: SHOW },
    once: { manifest: { triggers: [{ mqtt: 'state/+', qos: 1, retainHandling: 1 }] }, code: SHOW }
  })
  const c = await mqtt.connectAsync(broker.url)
  const seen = async (live: string): Promise<string[]> => {
    const agent = await f.start({ mqtt: { url: broker.url, clientId: 'retain-agent' } })
    await Promise.all([invocations(agent, 3, (r) => (r.result as { topic: string }).topic === live), c.publishAsync(live, '1', { qos: 1 })])
    // close() drains what is in flight, so the retained message's invocations are in the store.
    await agent.close()
    return (await f.records('result')).map((r) => {
      const res = (r.data as { result: { topic: string, retain: boolean } }).result
      return `${r.fn as string} ${res.topic} ${String(res.retain)}`
    })
  }
  try {
    await c.publishAsync('state/a', '"on"', { qos: 1, retain: true })
    const run1 = await seen('state/b')
    assert.equal([...run1].sort(), ['all state/a true', 'all state/b false', 'fresh state/b false', 'once state/a true', 'once state/b false'])
    const run2 = (await seen('state/c')).slice(run1.length)
    // Mosquitto (MQTT 3.1.1) re-sends retained messages on every SUBSCRIBE: only retainHandling 0 takes them.
    assert.equal(run2.sort(), ['all state/a true', 'all state/c false', 'fresh state/c false', 'once state/c false'])
  } finally {
    await c.endAsync()
    await broker.close()
    f.cleanup()
  }
})

test('[share] two agents in one $share group split the messages: each runs some, all run exactly once', async () => {
  const broker = await startMosquitto()
  const fn = { worker: { manifest: { triggers: [{ mqtt: '$share/workers/jobs/+/run', qos: 1 }] }, code: 'export default (e) => e.topic' } }
  const f1 = fixture(fn)
  const f2 = fixture(fn)
  const c = await mqtt.connectAsync(broker.url)
  const agents: Agent[] = []
  try {
    agents.push(await f1.start({ id: 'worker-1', mqtt: { url: broker.url } }))
    agents.push(await f2.start({ id: 'worker-2', mqtt: { url: broker.url } }))
    const N = 20
    const all = new Promise<void>((resolve, reject) => {
      let n = 0
      const timer = setTimeout(() => reject(new Error(`saw ${n} of ${N} invocations`)), 20_000)
      const on = (r: InvocationRecord): void => { if (++n === N) { clearTimeout(timer); resolve() } else if (!r.ok) reject(new Error(r.message)) }
      for (const a of agents) a.on('invocation', on)
    })
    await Promise.all([all, (async () => { for (let i = 0; i < N; i++) await c.publishAsync(`jobs/${i}/run`, String(i), { qos: 1 }) })()])
    for (const a of agents.splice(0)) await a.close()
    const topics = async (f: typeof f1): Promise<string[]> => (await f.records('result')).map((r) => (r.data as { result: string }).result)
    const one = await topics(f1)
    const two = await topics(f2)
    assert.ok(one.length > 0 && two.length > 0, `worker-1 ran ${one.length}, worker-2 ran ${two.length}`)
    assert.equal([...one, ...two].sort(), Array.from({ length: N }, (_, i) => `jobs/${i}/run`).sort())
  } finally {
    for (const a of agents) await a.close()
    await c.endAsync()
    await broker.close()
    f1.cleanup()
    f2.cleanup()
  }
})

test('[stray] a message no trigger matches (a subscription an older manifest left in the session) is logged and counted', async () => {
  const broker = await startMosquitto()
  const f = fixture({ fn: { manifest: { triggers: [{ mqtt: 'old/+', qos: 1 }] }, code: 'export default (e) => e.topic' } })
  const c = await mqtt.connectAsync(broker.url)
  const lines: string[] = []
  try {
    const config = { mqtt: { url: broker.url, clientId: 'stray-agent' } }
    await (await f.start(config)).close()
    writeFileSync(path.join(f.functionsDir, 'fn', 'function.json'), JSON.stringify({ name: 'fn', triggers: [{ mqtt: 'new/+', qos: 1 }] }))
    const agent = await f.start(config, { log: (l) => lines.push(l) })
    await c.publishAsync('old/x', '1', { qos: 1 })
    await Promise.all([invocations(agent, 1), c.publishAsync('new/x', '1', { qos: 1 })])
    const text = agent.metrics.toPrometheus()
    await agent.close()
    assert.ok(lines.some((l) => l.includes('message on old/x matches no function\'s trigger')), lines.join('\n'))
    assert.match(text, /^lambkin_mqtt_messages_unmatched_total 1$/m)
  } finally {
    await c.endAsync()
    await broker.close()
    f.cleanup()
  }
})

test.run()

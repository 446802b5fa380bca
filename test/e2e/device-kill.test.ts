// docs/architecture.md "Durability" end to end: a kill -9 of the agent under load loses no result it
// acknowledged, and every message is handled at least once once the agent comes back.
// The broker lives in this process, so it outlives the agent and keeps its session.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { readOutbox, startBroker, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess, TestBroker } from './fixtures/lambkin-process.js'

const N = 1000
const KILL_AFTER_ACKS = 150
const DEVICE_ID = 'e2e-kill'

function idOf (payload: Buffer | string | undefined): number | undefined {
  try {
    return (JSON.parse(String(payload)) as { id?: number }).id
  } catch {
    return undefined
  }
}

/** Resolves when check() holds, testing on every broker ack; rejects after timeoutMs. */
function until (broker: TestBroker, check: () => boolean, what: () => string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const on = (): void => { if (check()) done(() => resolve()) }
    const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${what()}`))), timeoutMs)
    const done = (settle: () => void): void => { clearTimeout(timer); broker.broker.off('ack', on); settle() }
    broker.broker.on('ack', on)
    on()
  })
}

test('SIGKILL under load loses no acknowledged result; after a restart every message has a result', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-kill-'))
  const data = path.join(root, 'data')
  const functions = writeFunctions(path.join(root, 'functions'), {
    record: {
      manifest: { triggers: [{ mqtt: 'load/+', qos: 1 }], limits: { concurrency: 2 } },
      // A little work per message keeps sandbox calls in flight when the kill lands.
      code: 'export default (e) => { let h = 0; for (let i = 0; i < 2000; i++) h = (h * 31 + i) | 0; return { id: e.payload.id, h } }'
    }
  })
  const broker = await startBroker()
  // Acks the broker received from the agent, i.e. messages the agent said were done with.
  const acked = new Set<number>()
  let ackedBeforeKill: Set<number> | undefined
  broker.broker.on('ack', (packet, client) => {
    if (client?.id !== `lambkin-${DEVICE_ID}` || packet === null || packet === undefined) return
    const id = idOf((packet as { payload?: Buffer }).payload)
    if (id !== undefined) acked.add(id)
  })
  const args = ['device', '--id', DEVICE_ID, '--data', data, '--functions', functions, '--mqtt', broker.url, '--quiet']
  let agent: LambkinProcess | undefined
  let publisher: mqtt.MqttClient | undefined
  try {
    agent = startLambkin(args)
    await agent.waitFor('stdout', /lambkin device e2e-kill ready: functions record/)

    publisher = await mqtt.connectAsync(broker.url, { clientId: 'e2e-publisher', reconnectPeriod: 0 })
    const pub = publisher
    const published: Array<Promise<unknown>> = []
    // Paced, so the kill lands while messages are still arriving and being handled.
    const sending = (async () => {
      for (let i = 0; i < N; i++) {
        published.push(pub.publishAsync(`load/${i % 7}`, JSON.stringify({ id: i }), { qos: 1 }))
        if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 5))
      }
      await Promise.all(published)
    })()

    await until(broker, () => acked.size >= KILL_AFTER_ACKS, () => `${KILL_AFTER_ACKS} acks (have ${acked.size})`)
    const killed = await agent.stop('SIGKILL')
    ackedBeforeKill = new Set(acked)
    assert.is(killed.signal, 'SIGKILL')
    assert.ok(ackedBeforeKill.size < N, 'the kill should land mid-stream')
    await sending

    // Same data dir, same client id: the broker hands over what the dead agent never acked.
    agent = startLambkin(args)
    await agent.waitFor('stdout', /ready/)
    await until(broker, () => acked.size === N, () => `all ${N} messages acked (have ${acked.size})`)
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null }, agent.stderr())

    const { records } = await readOutbox(data)
    const resultIds = new Map<number, number>()
    for (const r of records) {
      if (r.kind !== 'result') continue
      const id = (r.data.result as { id: number }).id
      resultIds.set(id, (resultIds.get(id) ?? 0) + 1)
    }
    const lostAcked = [...ackedBeforeKill].filter((id) => !resultIds.has(id))
    assert.equal(lostAcked, [], 'results acknowledged before the kill must survive it')
    const missing = Array.from({ length: N }, (_, i) => i).filter((id) => !resultIds.has(id))
    assert.equal(missing, [], 'every message has at least one result')
    assert.not.ok(records.some((r) => r.kind === 'dead-letter'))
  } finally {
    await publisher?.endAsync(true)
    await agent?.stop('SIGKILL')
    await broker.close()
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

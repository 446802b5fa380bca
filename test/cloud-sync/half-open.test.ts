// [W3] A device whose link went silent without closing (TCP still open, no packets) is shown
// as not connected and is sent no invokes once silent for 1.5x the cloud's keepaliveMaxSec, whatever
// keepalive it asked for (cloud-sync/broker/silence.ts); a device that keeps talking stays.
// Real aedes, LevelDB and Fastify; real MQTT.js devices, one behind a relay that freezes; the
// cloud's clock is a FakeClock, so the silence is measured without sleeping.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import { encodeFrame, upTopic } from '../../src/wire/index.js'
import { startCloud } from '../helpers/cloud.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { freezeRelay } from '../helpers/freeze-relay.js'
import { until } from '../helpers/deploy.js'

const connected = async (f: Awaited<ReturnType<typeof startCloud>>, id: string): Promise<boolean> =>
  (await f.api<{ connected: boolean }>('GET', `/v1/devices/${id}`)).body.connected

test('[W3] a device silent behind a frozen link is dropped once silent for 1.5x keepaliveMaxSec and refused invokes at once; a talking one stays', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ silenceClock: clock, keepaliveMaxSec: 2 })
  const relay = await freezeRelay({ port: f.cloud.broker.port as number })
  const clients: mqtt.MqttClient[] = []
  try {
    const secrets = { silent: await f.addDevice('silent'), talker: await f.addDevice('talker'), slow: await f.addDevice('slow') }
    // keepalive 0: aedes would never time these out on its own; 3600 s: not for an hour.
    const silent = await mqtt.connectAsync(relay.url, { clientId: 'silent', username: 'silent', password: secrets.silent, keepalive: 0, reconnectPeriod: 0 })
    const slow = await mqtt.connectAsync(relay.url, { clientId: 'slow', username: 'slow', password: secrets.slow, keepalive: 3600, reconnectPeriod: 0 })
    const talker = await mqtt.connectAsync(f.cloud.broker.url, { clientId: 'talker', username: 'talker', password: secrets.talker, keepalive: 0, reconnectPeriod: 0 })
    clients.push(silent, slow, talker)
    for (const c of clients) c.on('error', () => {})
    await silent.subscribeAsync('lambkin/v1/silent/down/#', { qos: 1 })
    await talker.subscribeAsync('lambkin/v1/talker/down/#', { qos: 1 })
    assert.ok(await connected(f, 'silent'))
    relay.freeze()
    // The silence window is 1.5 x 2 s; swept every quarter of it.
    for (let i = 0; i < 8; i++) {
      await talker.publishAsync(upTopic('talker', 'heartbeat'), encodeFrame({ time: clock.now(), backlog: { records: 0, bytes: 0 }, uploadedToday: 0, lastSeq: 0 }), { qos: 1 })
      await clock.advance(500)
    }
    await until(async () => !(await connected(f, 'silent')) && !(await connected(f, 'slow')), 5000)
    assert.ok(await connected(f, 'talker'), 'the device that kept talking stays connected')
    const r = await f.api<{ error: { code: string } }>('POST', '/v1/devices/silent/invoke', { fn: 'f', event: {} })
    assert.is(r.status, 409)
    assert.is(r.body.error.code, 'LAMBKIN_DEVICE_OFFLINE')
    const st = await f.api<{ cloud: { halfOpenClosed: number } }>('GET', '/v1/status')
    assert.is(st.body.cloud.halfOpenClosed, 2)
    assert.is((await f.api<{ state: string }>('GET', '/v1/devices/silent')).body.state, 'offline')
  } finally {
    for (const c of clients) c.end(true)
    await relay.close()
    await f.cleanup()
  }
})

test.run()

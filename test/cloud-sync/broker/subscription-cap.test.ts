// Field situation: a device holding valid credentials of its own subscribes to thousands of
// filters it is allowed (its own down/<kind>, bundles/<sha256>) on a persistent session. Each
// one costs the cloud's embedded broker memory, kept after the device leaves (clean: false),
// so one board could grow the cloud until it fails for the whole fleet. The broker holds at
// most MAX_SUBSCRIPTIONS_PER_DEVICE filters per device; more are refused (SUBACK 0x80) and
// counted, and the session it resumes holds no more than that. Real aedes and MQTT.js.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { MqttClient } from 'mqtt'
import { MAX_SUBSCRIPTIONS_PER_DEVICE } from '../../../cloud-sync/broker/acl.js'
import { downTopic, encodeFrame, upTopic } from '../../../src/wire/index.js'
import { nextMessage, startCloud } from '../../helpers/cloud.js'

/** The SUBACK return codes for one SUBSCRIBE of `filters` (MQTT.js rejects any 0x80, so they are read off the packet). */
async function granted (c: MqttClient, filters: string[]): Promise<number[]> {
  const suback = new Promise<number[]>((resolve) => {
    const on = (p: { cmd: string }): void => {
      if (p.cmd !== 'suback') return
      c.off('packetreceive', on)
      resolve((p as { granted?: number[] }).granted ?? [])
    }
    c.on('packetreceive', on)
  })
  await c.subscribeAsync(Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }]))).catch(() => {})
  return await suback
}

/** Filters under the device's own down/ tree, which the ACL allows one by one. */
const own = (id: string, kind: string): string => `lambkin/v1/${id}/down/${kind}`
const kinds = (id: string, from: number, n: number): string[] => Array.from({ length: n }, (_, i) => own(id, `k${from + i}`))
const ok = (g: number[]): number => g.filter((q) => q !== 128).length

test('a device subscribing to more than the cap of its own filters holds at most the cap, also across a resumed session; others are untouched', async () => {
  const f = await startCloud()
  try {
    const secret = await f.addDevice('evil')
    const other = await f.connect('gh-01', await f.addDevice('gh-01'))
    const evil = await f.connect('evil', secret, { clean: false })
    assert.is(ok(await granted(evil, kinds('evil', 0, MAX_SUBSCRIPTIONS_PER_DEVICE - 4))), MAX_SUBSCRIPTIONS_PER_DEVICE - 4)
    const second = await granted(evil, kinds('evil', 1000, 10))
    assert.equal(second, [1, 1, 1, 1, 128, 128, 128, 128, 128, 128])
    // One it holds already is granted again; a new one, a bundle included, is not.
    assert.equal(await granted(evil, [own('evil', 'k0'), own('evil', 'new'), 'lambkin/v1/bundles/' + 'a'.repeat(64)]), [1, 128, 128])
    // The session resumes with what it held, and still no room for more.
    evil.end(true)
    const again = await f.connect('evil', secret, { clean: false })
    assert.is(ok(await granted(again, kinds('evil', 5000, 50))), 0)
    // Unsubscribing makes room for as many.
    await again.unsubscribeAsync(kinds('evil', 0, 3))
    assert.is(ok(await granted(again, kinds('evil', 6000, 10))), 3)
    const st = await f.api<{ cloud: { refused: Record<string, number> } }>('GET', '/v1/status')
    assert.is(st.body.cloud.refused['too-many-subscriptions'], 6 + 2 + 50 + 7)
    // Another device subscribes and uploads as ever.
    const ack = nextMessage(other, downTopic('gh-01', 'ack'))
    await other.publishAsync(upTopic('gh-01', 'batch'), encodeFrame({ records: [{ seq: 1, kind: 'result', fn: 'f', time: 1_700_000_000_000, data: 1 }] }), { qos: 1 })
    assert.ok((await ack).length > 0)
  } finally {
    await f.cleanup()
  }
})

test('one SUBSCRIBE of 5,000 filters (more than the cap can ever grant) closes the connection before aedes looks at a filter; nothing is stored', async () => {
  const f = await startCloud()
  try {
    const secret = await f.addDevice('flood')
    const other = await f.connect('gh-02', await f.addDevice('gh-02'))
    const flood = await f.connect('flood', secret, { clean: false, reconnectPeriod: 0 })
    // Whichever comes first: the connection closed, or a SUBACK (aedes answered every filter).
    const first = new Promise<string>((resolve) => {
      flood.once('close', () => resolve('close'))
      flood.on('packetreceive', (p) => { if (p.cmd === 'suback') resolve('suback') })
    })
    flood.subscribe(Object.fromEntries(kinds('flood', 0, 5000).map((t) => [t, { qos: 1 as const }])), () => {})
    assert.is(await first, 'close', 'no SUBACK: the packet was refused whole')
    const st = await f.api<{ cloud: { refused: Record<string, number> } }>('GET', '/v1/status')
    assert.is(st.body.cloud.refused['too-many-subscriptions'], 5000)
    flood.end(true)
    // The resumed session holds none of them: the cap has all its room.
    const again = await f.connect('flood', secret, { clean: false })
    assert.is(ok(await granted(again, kinds('flood', 0, MAX_SUBSCRIPTIONS_PER_DEVICE))), MAX_SUBSCRIPTIONS_PER_DEVICE)
    // A packet of exactly the cap is answered filter by filter, as before.
    assert.equal(await granted(again, kinds('flood', 100, MAX_SUBSCRIPTIONS_PER_DEVICE)), Array(MAX_SUBSCRIPTIONS_PER_DEVICE).fill(128))
    const ack = nextMessage(other, downTopic('gh-02', 'ack'))
    await other.publishAsync(upTopic('gh-02', 'batch'), encodeFrame({ records: [{ seq: 1, kind: 'result', fn: 'f', time: 1_700_000_000_000, data: 1 }] }), { qos: 1 })
    assert.ok((await ack).length > 0)
  } finally {
    await f.cleanup()
  }
})

test.run()

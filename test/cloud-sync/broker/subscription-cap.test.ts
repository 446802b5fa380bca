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

test('a device subscribing to thousands of its own filters holds at most the cap, also across a resumed session; others are untouched', async () => {
  const f = await startCloud()
  try {
    const secret = await f.addDevice('evil')
    const other = await f.connect('gh-01', await f.addDevice('gh-01'))
    const evil = await f.connect('evil', secret, { clean: false })
    const first = await granted(evil, kinds('evil', 0, 5000))
    assert.is(ok(first), MAX_SUBSCRIPTIONS_PER_DEVICE)
    assert.equal(first.slice(MAX_SUBSCRIPTIONS_PER_DEVICE), Array(5000 - MAX_SUBSCRIPTIONS_PER_DEVICE).fill(128))
    // One it holds already is granted again; a new one, a bundle included, is not.
    assert.equal(await granted(evil, [own('evil', 'k0'), own('evil', 'new'), 'lambkin/v1/bundles/' + 'a'.repeat(64)]), [1, 128, 128])
    // The session resumes with what it held, and still no room for more.
    evil.end(true)
    const again = await f.connect('evil', secret, { clean: false })
    assert.is(ok(await granted(again, kinds('evil', 5000, 100))), 0)
    // Unsubscribing makes room for as many.
    await again.unsubscribeAsync(kinds('evil', 0, 3))
    assert.is(ok(await granted(again, kinds('evil', 6000, 10))), 3)
    const st = await f.api<{ cloud: { refused: Record<string, number> } }>('GET', '/v1/status')
    assert.is(st.body.cloud.refused['too-many-subscriptions'], 5000 - MAX_SUBSCRIPTIONS_PER_DEVICE + 2 + 100 + 7)
    // Another device subscribes and uploads as ever.
    const ack = nextMessage(other, downTopic('gh-01', 'ack'))
    await other.publishAsync(upTopic('gh-01', 'batch'), encodeFrame({ records: [{ seq: 1, kind: 'result', fn: 'f', time: 1_700_000_000_000, data: 1 }] }), { qos: 1 })
    assert.ok((await ack).length > 0)
  } finally {
    await f.cleanup()
  }
})

test.run()

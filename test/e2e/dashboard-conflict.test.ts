// A device in stream conflict [W4] on its dashboard page, in Chromium against a real `lambkin
// cloud`: the page says what the conflict means and what to do, "Clear the conflict" (after its
// confirmation) clears it without a reload, and when both boards still run the next refused
// batch shows it again. The two boards are one MQTT.js client speaking the wire under one id,
// sending the same seqs with other records, so a refused batch need not wait for an agent's
// 10-minute retry.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import type { MqttClient } from 'mqtt'
import { decodeFrame, downTopic, encodeFrame, parseAck, upTopic } from '../../src/wire/index.js'
import type { AckFrame } from '../../src/wire/index.js'
import { chromiumMissing, openBrowser, screenshot, signIn, waitInPage } from '../helpers/browser.js'
import type { TestBrowser } from '../helpers/browser.js'
import { deployWorld } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'

const missing = chromiumMissing()
let w: DeployWorld
let browser: TestBrowser
let boards: MqttClient | undefined
const STREAM = '0123456789abcdef'
const records = (from: number, to: number, board: string): unknown[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, kind: 'result', fn: 'tick', time: Date.now(), data: { result: { board } } }))

/** Publishes one batch as gh-01 and resolves with the cloud's ack [W4]. */
async function send (c: MqttClient, batchId: number, recs: unknown[]): Promise<AckFrame> {
  const topic = downTopic('gh-01', 'ack')
  const ack = new Promise<Buffer>((resolve) => {
    const on = (t: string, payload: Buffer): void => { if (t === topic) { c.off('message', on); resolve(payload) } }
    c.on('message', on)
  })
  await c.publishAsync(upTopic('gh-01', 'batch'), encodeFrame({ stream: STREAM, batchId, records: recs }), { qos: 1 })
  return parseAck(decodeFrame(await ack, 1024))
}

const PANEL = "document.querySelector('.conflict-panel')"

if (missing !== undefined) {
  console.log(`dashboard-conflict: skipped: ${missing}`)
} else {
  test.before(async () => {
    w = await deployWorld()
    browser = await openBrowser()
  })
  test.after(async () => {
    boards?.end(true)
    await browser?.close()
    await w?.cleanup()
  })

  test('[W4] a conflict is explained on the device page, cleared with its button, and shows again when both boards still run', async () => {
    const secret = await w.addDevice('gh-01', 'lab')
    const c = boards = mqtt.connect(w.brokerUrl, { clientId: 'gh-01', username: 'gh-01', password: secret, reconnectPeriod: 0 })
    await new Promise<void>((resolve, reject) => { c.once('connect', () => resolve()); c.once('error', reject) })
    await c.subscribeAsync(downTopic('gh-01', 'ack'), { qos: 1 })
    const stored = await send(c, 1, records(1, 5, 'a'))
    assert.equal([stored.seq, stored.rejected], [5, undefined])
    assert.is((await send(c, 2, records(4, 6, 'b'))).rejected, 'conflict')

    const page = await browser.page()
    await signIn(page, `${w.env.LAMBKIN_API}/#/device/gh-01`, w.env.LAMBKIN_TOKEN)
    const panel = page.getByRole('region', { name: 'Stream conflict' })
    await panel.waitFor()
    const said = await panel.innerText()
    assert.match(said, /LAMBKIN_STREAM_CONFLICT: 1 conflicting batch\)/)
    assert.match(said, /Two boards are using the id gh-01/)
    assert.match(said, /Nothing was deleted on either board/)
    assert.match(said, /lambkin devices add <new-id>/)
    // One badge says it, in words with its symbol.
    assert.equal(await page.locator('.facts .state').allInnerTexts(), ['⚠ in conflict'])
    await screenshot(page, 'device-conflict')

    // "Keep things as they are" changes nothing; the confirmation clears it.
    await panel.getByRole('button', { name: 'Clear the conflict' }).click()
    const dialog = page.getByRole('dialog', { name: 'Clear the conflict of gh-01?' })
    await dialog.waitFor()
    await dialog.getByRole('button', { name: 'Keep things as they are' }).click()
    assert.is((await w.api<{ state: string }>('GET', '/v1/devices/gh-01')).body.state, 'conflict')
    await panel.getByRole('button', { name: 'Clear the conflict' }).click()
    await dialog.getByRole('button', { name: 'Clear the conflict' }).click()
    await waitInPage(page, `${PANEL} === null && !document.querySelector('.facts').textContent.includes('in conflict')`)
    assert.match(await page.locator('.facts').innerText(), /online/)
    const cleared = await w.api<{ state: string, conflict: unknown, counts: { stored: number } }>('GET', '/v1/devices/gh-01')
    assert.equal([cleared.body.state, cleared.body.conflict, cleared.body.counts.stored], ['online', null, 5])

    // Both boards still run: the second one's next batch is refused, and the page shows it again without a reload.
    assert.is((await send(c, 3, records(4, 7, 'b'))).rejected, 'conflict')
    await panel.waitFor()
    assert.match(await panel.innerText(), /LAMBKIN_STREAM_CONFLICT: 1 conflicting batch\)/)
    assert.equal(browser.errors, [])
    await page.close()
  })
}

test.run()

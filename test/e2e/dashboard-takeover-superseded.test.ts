// Two things a fleet operator must see on the dashboard, in Debian's Chromium against a real
// `lambkin cloud` and real agents: a device whose id two boards fight over (two agents on one
// id, as from a cloned SD card: each connection takes over the other's) is marked on its fleet
// row with how many takeovers and when the last was, the filter finds it and its page says so;
// and a rollout superseded while its device is in its health window shows that device as
// superseded, not watching, live on the rollouts page, in the `lambkin deploy` that was
// following it and in `lambkin rollout status`.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Page } from 'playwright-core'
import type { FleetView } from '../../cloud-sync/api/dashboard-types.js'
import { chromiumMissing, openBrowser, screenshot, signIn, waitInPage } from '../helpers/browser.js'
import type { TestBrowser } from '../helpers/browser.js'
import { deployWorld, until } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'

const missing = chromiumMissing()
let w: DeployWorld
let browser: TestBrowser

const EVERY_SECOND = { triggers: [{ schedule: '* * * * * *' }] }
/** A device's row in the devices table. */
const rowOf = (page: Page, id: string): ReturnType<Page['locator']> => page.locator('.rows [role="row"]', { has: page.getByRole('link', { name: id, exact: true }) })

if (missing !== undefined) {
  console.log(`dashboard-takeover-superseded: skipped: ${missing}`)
} else {
  test.before(async () => {
    w = await deployWorld()
    browser = await openBrowser()
  })
  test.after(async () => {
    await browser?.close()
    await w?.cleanup()
  })

  test('two boards on one id: the fleet row warns with the takeovers and the last one\'s time, the filter finds it, its page says it', async () => {
    await w.agent('solo-1', await w.addDevice('solo-1', 'lab')).start()
    const secret = await w.addDevice('twin-1', 'lab')
    await w.agent('twin-1', secret).start()
    const page = await browser.page()
    await signIn(page, `${w.env.LAMBKIN_API}/`, w.env.LAMBKIN_TOKEN)
    await page.getByText('Showing 2 of 2 devices').waitFor()
    assert.is(await rowOf(page, 'twin-1').locator('.state-takeover').count(), 0, 'one board: no warning')

    // The clone: its own data folder, the same id and secret.
    const clone = w.agent('twin-1-clone', secret, { id: 'twin-1' })
    await clone.start()
    const badge = rowOf(page, 'twin-1').locator('.state-takeover')
    await badge.waitFor({ timeout: 60_000 })
    assert.match(await badge.innerText(), /^⚠ id shared: \d+× · last \d+ s ago$/)
    assert.match(await badge.getAttribute('title') ?? '', /Two boards use this id .* lambkin devices add <new-id>/)
    assert.match(await rowOf(page, 'twin-1').getAttribute('class') ?? '', /row-takeover/)
    assert.is(await rowOf(page, 'solo-1').locator('.state-takeover').count(), 0)
    assert.match(await page.locator('.figure', { hasText: 'ids shared' }).innerText(), /^1\s/)
    // The API row the page reads says the same.
    const fleet = (await w.api<FleetView>('GET', '/v1/fleet')).body
    const t = fleet.devices.find((d) => d.id === 'twin-1')?.takeovers
    assert.ok(t !== null && t !== undefined && t.shared && t.recent >= 3 && t.count >= t.recent && t.lastAt > 0, JSON.stringify(t))
    await screenshot(page, 'fleet-takeovers')
    // All of it in view, not cut off, on a laptop screen and on a phone.
    const whole = "(() => { const b = [...document.querySelectorAll('.state-takeover')].find((el) => el.closest('[role=row]').textContent.includes('twin-1')); return b !== undefined && b.scrollWidth <= b.clientWidth })()"
    assert.ok(await waitInPage(page, whole), 'the warning is cut off')
    const phone = await browser.page({ width: 390, height: 844 })
    await signIn(phone, `${w.env.LAMBKIN_API}/`, w.env.LAMBKIN_TOKEN)
    await rowOf(phone, 'twin-1').locator('.state-takeover').waitFor()
    assert.ok(await waitInPage(phone, whole), 'the warning is cut off on a phone')
    await screenshot(phone, 'fleet-takeovers-phone')
    await phone.close()

    await page.getByLabel('Status').selectOption('takeover')
    await page.getByText('Showing 1 of 2 devices').waitFor()
    assert.match(await page.locator('.rows [role="row"]').first().innerText(), /twin-1/)

    await clone.stop()
    await page.getByRole('link', { name: 'twin-1', exact: true }).click()
    await page.getByRole('heading', { name: 'Device twin-1' }).waitFor()
    const fact = page.locator('.facts div', { hasText: 'Takeovers of its connection' })
    assert.match(await fact.innerText(), /⚠ id shared: \d+× · last \d+ s ago[\s\S]*\d+ takeovers in all, \d+ in the last 10 min, the last \d+ s ago/)
    await page.close()
  })

  test('[W5] a rollout superseded in its device\'s health window shows the device superseded, live on the page and in the CLI', async () => {
    // A window far longer than the test: only the newer rollout can end the first.
    await w.agent('gh-01', await w.addDevice('gh-01', 'site'), { deploy: { healthWindowMs: 600_000, minInvocations: 3, maxErrorRate: 0.5, fetchTimeoutMs: 5000 } }).start()
    const dir = w.fn('ticker', 'export default () => ({ v: 1 })', EVERY_SECOND)
    const first = w.lambkin(['deploy', dir, '--to', 'gh-01'], 90_000)
    await until('r1 in its health window', async () => (await w.rollout('r1').catch(() => undefined))?.devices[0]?.health === 'watching')

    const page = await browser.page()
    await signIn(page, `${w.env.LAMBKIN_API}/#/rollouts`, w.env.LAMBKIN_TOKEN)
    const card = page.locator('.rollout', { hasText: 'r1: deploy ticker' })
    await card.getByRole('button', { name: 'Show devices' }).click()
    const state = card.locator('td.ro-state')
    await waitInPage(page, "document.querySelector('td.ro-state')?.textContent.startsWith('applied, in health window')")

    const again = await w.lambkin(['deploy', dir, '--to', 'gh-01', '--no-wait'])
    assert.is(again.code, 0, again.stdout + again.stderr)
    await card.getByText('↷ superseded', { exact: true }).waitFor()
    await waitInPage(page, "[...document.querySelectorAll('td.ro-state')].some((td) => td.textContent === 'applied, ↷ superseded in health window')")
    assert.equal(await state.allInnerTexts(), ['applied, ↷ superseded in health window'])
    assert.match(await card.locator('tbody tr').first().innerText(), /superseded by rollout r2 while its health window was open/)
    await screenshot(page, 'rollout-superseded')
    await page.close()

    const r = await first
    assert.is(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stdout, /gh-01 {2}superseded {3}version [0-9a-f]{16}, superseded by rollout r2 while its health window was open/)
    assert.match(r.stderr, /^LAMBKIN_ROLLOUT_ABORTED: rollout r1 superseded: superseded by rollout r2 before its health windows ended; 1 superseded in health window/m)
    const status = await w.lambkin(['rollout', 'status', 'r1'])
    assert.is(status.code, 0, status.stderr)
    assert.match(status.stdout, /^ {2}gh-01 {2}superseded {3}version [0-9a-f]{16}, superseded by rollout r2/m)
    assert.not.match(status.stdout, /health window: \d+ s left/)
    assert.equal((await w.rollout('r1')).devices.map((d) => [d.state, d.health]), [['applied', 'superseded']])
  })
}

test.run()

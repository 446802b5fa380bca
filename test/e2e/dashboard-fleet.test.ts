// The fleet dashboard in Debian's Chromium against a real `lambkin cloud` with real agents: a
// wrong token is refused with the reason; the page lists the devices and is reachable by
// keyboard; a board that stops (its process frozen, so its connection stays open) turns stale,
// then offline when the broker's keep-alive gives up, without a reload; a device that does not
// run its desired version is marked in words; a token the cloud no longer has ends the session.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { rmSync } from 'node:fs'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { chromiumMissing, openBrowser, screenshot, signIn, waitInPage } from '../helpers/browser.js'
import type { TestBrowser } from '../helpers/browser.js'
import { deployWorld, until } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'
import { startLambkin } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

const missing = chromiumMissing()
let w: DeployWorld
let browser: TestBrowser
let board: LambkinProcess | undefined

/** In the page (the test project has no DOM types, so page code is written as strings). */
const LIVE = "document.querySelector('.live')?.textContent.includes('live') === true"
const RECORD_STATES = `(() => {
  const seen = window.seen = []
  const look = () => {
    const row = [...document.querySelectorAll('[role="row"]')].find((r) => r.querySelector('.c-id')?.textContent === 'gh-02')
    const s = row?.querySelector('.state')?.textContent ?? ''
    if (seen[seen.length - 1] !== s) seen.push(s)
  }
  new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true })
})()`

/** The status cell's words of a device's row in the table. */
const stateOf = async (page: Page, id: string): Promise<string> => await page.locator('[role="row"]', { has: page.getByRole('link', { name: id, exact: true }) }).locator('.c-state').innerText()

if (missing !== undefined) {
  console.log(`dashboard-fleet: skipped: ${missing}`)
} else {
  test.before(async () => {
    w = await deployWorld()
    browser = await openBrowser()
  })
  test.after(async () => {
    board?.child.kill('SIGCONT')
    await board?.stop('SIGKILL')
    await browser?.close()
    await w?.cleanup()
  })

  test('a wrong token is refused with the reason; the right one lists every device', async () => {
    await w.agent('gh-01', await w.addDevice('gh-01', 'greenhouse')).start()
    await w.addDevice('shop-1', 'shop')
    const page = await browser.page()
    await signIn(page, `${w.env.LAMBKIN_API}/`, 'not-the-operator-token')
    const alert = page.getByRole('alert')
    await alert.waitFor()
    assert.match(await alert.innerText(), /refused this token .*LAMBKIN_UNAUTHORIZED/)
    assert.is(await page.evaluate('sessionStorage.length'), 0, 'a refused token is not kept')

    await page.getByLabel('Operator token').fill(w.env.LAMBKIN_TOKEN)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByText('Showing 2 of 2 devices').waitFor()
    await waitInPage(page, LIVE)
    assert.match(await stateOf(page, 'gh-01'), /online/)
    assert.match(await stateOf(page, 'shop-1'), /never seen/)
    // The token stays in this tab only.
    assert.is(await page.evaluate('localStorage.length'), 0)
    assert.is(await page.evaluate('document.cookie'), '')
    await screenshot(page, 'fleet')
    // Keyboard only: Tab reaches the device's link, Enter opens its page.
    await page.evaluate('document.activeElement?.blur()')
    let reached = false
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab')
      reached = await page.evaluate("document.activeElement?.textContent === 'gh-01' && document.activeElement.tagName === 'A'") as boolean
    }
    assert.ok(reached, 'Tab reaches the device link')
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Device gh-01' }).waitFor()
    await page.close()
  })

  test('[W3] a board that stops turns stale, then offline, live on the page', async () => {
    // Heartbeats every second (stale after 3 s of silence), keep-alive 12 s (the broker cuts it
    // after 18 s): stale lasts about 15 s, longer than the feed's slowest refresh (5 s) on a busy machine.
    const a = w.agent('gh-02', await w.addDevice('gh-02', 'greenhouse'), { cloud: { heartbeatMs: 1000, keepaliveSec: 12 } })
    board = startLambkin(['device', '--config', a.configFile], { env: {} })
    const page = await browser.page()
    await signIn(page, `${w.env.LAMBKIN_API}/`, w.env.LAMBKIN_TOKEN)
    await page.getByRole('link', { name: 'gh-02', exact: true }).waitFor()
    await waitInPage(page, '[...document.querySelectorAll(\'[role="row"]\')].some((r) => r.textContent.includes(\'gh-02\') && r.textContent.includes(\'online\'))', 60_000)
    // The row turns online on the connect alone (the cloud notes it seen), but its heartbeat
    // interval comes with the board's first `up/status` [W3], sent a round trip or two later;
    // without it the cloud ages the board by the default 30 s (stale after 90 s, after the
    // keep-alive's cut), so a board frozen in between goes online -> offline, rightly. Freeze it
    // only once the cloud has that status (its view names the agent).
    await until('the cloud to hold gh-02\'s up/status', async () => (await w.api('GET', '/v1/devices/gh-02')).body.agent !== null, 60_000)
    // Record every state the row shows from now on, as the operator would see it.
    await page.evaluate(RECORD_STATES)
    board.child.kill('SIGSTOP')
    await waitInPage(page, "window.seen.some((s) => s.includes('offline'))", 60_000)
    const seen = await page.evaluate('window.seen') as string[]
    const words = seen.map((s) => s.replace(/[^a-z ]/g, '').trim())
    assert.ok(words.indexOf('stale') >= 0 && words.indexOf('stale') < words.indexOf('offline'), `states shown: ${JSON.stringify(words)}`)
    assert.match(await page.locator('.figure', { hasText: 'stale' }).innerText(), /heartbeats stopped/)
    await page.close()
  })

  test('a device that does not run its desired version stands out, in words, and the filter finds it', async () => {
    await w.addDevice('gh-09', 'greenhouse')
    // --no-wait: the device never connects, so waiting for it would only take --timeout.
    const r = await w.lambkin(['deploy', w.fn('thermo', 'export default () => ({ t: 21 })'), '--to', 'gh-09', '--no-wait'])
    assert.match(r.stdout, /offline/, r.stderr)
    const page = await browser.page()
    await signIn(page, `${w.env.LAMBKIN_API}/`, w.env.LAMBKIN_TOKEN)
    await page.getByRole('link', { name: 'gh-09', exact: true }).waitFor()
    await page.getByLabel('Status').selectOption('mismatch')
    await page.getByText(/^Showing 1 of \d+ devices$/).waitFor()
    const row = page.locator('.rows [role="row"]').first()
    assert.match(await row.innerText(), /gh-09[\s\S]*⚠ thermo none ≠ desired v1/)
    await page.close()
  })

  test('a token the cloud no longer has ends the session with the reason', async () => {
    const page = await browser.page()
    await signIn(page, `${w.env.LAMBKIN_API}/`, w.env.LAMBKIN_TOKEN)
    await page.getByText(/Showing \d+ of \d+ devices/).waitFor()
    // A new operator token: the cloud restarted with its token file removed.
    await w.stopCloud('SIGTERM')
    rmSync(path.join(w.root, 'cloud', 'operator-token'))
    await w.startCloud()
    const alert = page.getByRole('alert')
    await alert.waitFor({ timeout: 30_000 })
    assert.match(await alert.innerText(), /no longer accepts this token/)
    assert.ok(await page.getByLabel('Operator token').isVisible())
    assert.is(await page.evaluate('sessionStorage.length'), 0)
    await page.close()
  })
}

test.run()

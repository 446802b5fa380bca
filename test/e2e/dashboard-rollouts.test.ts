// Rollouts on the dashboard, in Chromium, against a real `lambkin cloud` and real agents: a
// deploy started with the CLI shows on the open page and moves device by device to its end
// without a reload; a running rollout is cancelled from the page (behind a confirmation), and
// the cloud and the CLI that was following it agree; a rollback started from the page runs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chromiumMissing, openBrowser, screenshot, signIn, waitInPage } from '../helpers/browser.js'
import type { TestBrowser } from '../helpers/browser.js'
import { deployWorld, until } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'
import { startLambkin } from './fixtures/lambkin-process.js'

const missing = chromiumMissing()
const IDS = ['r-0', 'r-1', 'r-2']
let w: DeployWorld
let browser: TestBrowser

/** In the page: every progress line of rollout `id` shown from now on, in order. */
const recordProgress = (id: string): string => `(() => {
  const seen = window.progress = []
  const look = () => {
    const li = [...document.querySelectorAll('.rollout')].find((el) => el.querySelector('h3')?.textContent.startsWith(${JSON.stringify(id)} + ':') || (${JSON.stringify(id)} === '*' && el === document.querySelector('.rollout')))
    const s = li === undefined ? '' : li.querySelector('.rollout-state').textContent + ' | ' + li.querySelector('.progress').textContent
    if (s !== '' && seen[seen.length - 1] !== s) seen.push(s)
  }
  look()
  new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true })
})()`

if (missing !== undefined) {
  console.log(`dashboard-rollouts: skipped: ${missing}`)
} else {
  test.before(async () => {
    w = await deployWorld()
    for (const id of IDS) await w.agent(id, await w.addDevice(id, 'lab')).start()
    browser = await openBrowser()
  })
  test.after(async () => {
    await browser?.close()
    await w?.cleanup()
  })

  test('a deploy started with the CLI shows up and moves live to its end', async () => {
    const page = await browser.page()
    await signIn(page, `${w.env.LAMBKIN_API}/#/rollouts`, w.env.LAMBKIN_TOKEN)
    await page.getByText(/No rollouts yet/).waitFor()
    await page.evaluate(recordProgress('*'))
    // One device a second: each step is on the page for about a second.
    const r = await w.lambkin(['deploy', w.fn('greeter', 'export default () => ({ hello: 1 })'), '--to', 'group:lab', '--rate', '60'])
    assert.is(r.code, 0, r.stderr)
    await waitInPage(page, "window.progress.some((s) => s.includes('done') && s.includes('3 of 3 applied'))", 30_000)
    const seen = await page.evaluate('window.progress') as string[]
    const applied = seen.map((s) => Number(/(\d+) of 3 applied/.exec(s)?.[1] ?? -1))
    // Shown while it ran, and in order: 1, 2, then 3 of 3.
    for (const n of [1, 2, 3]) assert.ok(applied.includes(n), `progress shown: ${JSON.stringify(seen)}`)
    assert.equal([...applied].sort((a, b) => a - b), applied, `progress went backwards: ${JSON.stringify(seen)}`)
    assert.ok(seen.some((s) => s.includes('running')), JSON.stringify(seen))
    assert.match(seen[seen.length - 1], /done \| 3 of 3 applied · 0 failed · 0 rolled back · 0 waiting/)
    assert.match(await page.locator('.rollout-facts').first().innerText(), /rate 60 devices\/min · abort never/)
    await screenshot(page, 'rollouts')
    await page.close()
  })

  test('a running rollout is cancelled from the page after a confirmation', async () => {
    // One device a minute: after the first, the rest wait.
    const deploy = startLambkin(['deploy', w.fn('greeter', 'export default () => ({ hello: 2 })'), '--to', 'group:lab', '--rate', '1', '--json'], { env: w.env })
    const m = await deploy.waitFor('stdout', /"event":"device","rollout":"([^"]+)","device":"[^"]+","state":"applied"/, 60_000)
    const id = m[1]
    const page = await browser.page({ width: 390, height: 844 })
    await signIn(page, `${w.env.LAMBKIN_API}/#/rollouts`, w.env.LAMBKIN_TOKEN)
    const card = page.locator('.rollout', { hasText: `${id}:` })
    await card.getByText('1 of 3 applied').waitFor()
    assert.match(await card.locator('.progress').innerText(), /2 waiting/)
    await screenshot(page, 'rollouts-phone')
    await card.getByRole('button', { name: `Cancel ${id}` }).click()
    const dialog = page.getByRole('dialog')
    await dialog.waitFor()
    // Keeping things as they are changes nothing.
    await dialog.getByRole('button', { name: 'Keep things as they are' }).click()
    assert.is((await w.rollout(id)).state, 'running')
    await card.getByRole('button', { name: `Cancel ${id}` }).click()
    await dialog.getByRole('button', { name: `Cancel ${id}` }).click()
    await card.getByText('■ cancelled').waitFor()
    assert.is((await w.rollout(id)).state, 'cancelled')
    const exit = await deploy.exited
    assert.is(exit.code, 1, 'the deploy that was following says the rollout did not finish')
    await until('the others to keep version 1', async () => (await w.rollout(id)).counts.applied === 1)
    await page.close()
  })

  test('a rollback from the page, after a confirmation, takes the moved device back', async () => {
    const page = await browser.page()
    await signIn(page, `${w.env.LAMBKIN_API}/#/rollouts`, w.env.LAMBKIN_TOKEN)
    const cancelled = (await w.api<{ rollouts: Array<{ id: string }> }>('GET', '/v1/rollouts?limit=1')).body.rollouts[0].id
    const newest = page.locator('.rollout', { hasText: `${cancelled}: deploy greeter` })
    await newest.getByText('■ cancelled').waitFor()
    await newest.getByRole('button', { name: 'Roll back greeter on group lab' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByRole('button', { name: 'Roll back' }).click()
    const started = await newest.getByRole('status').innerText()
    const id = /rollback (r\d+) started/.exec(started)?.[1]
    assert.ok(id !== undefined, started)
    const card = page.locator('.rollout', { hasText: `${id}: rollback of greeter` })
    await card.getByText('✓ done').waitFor({ timeout: 30_000 })
    const view = await w.rollout(id)
    assert.is(view.kind, 'rollback')
    assert.is(view.counts.applied, 1, JSON.stringify(view.counts))
    assert.match(await card.locator('.progress').innerText(), /1 of 3 applied/)
    await page.close()
  })
}

test.run()

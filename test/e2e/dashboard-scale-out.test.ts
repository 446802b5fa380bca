// The dashboard on the scale-out cloud (docs/scale-out.md): two `lambkin cloud` instances on one
// Mosquitto and one PostgreSQL, each serving the page. Signed in on either, the page lists the
// devices with the state and results that whichever instance took their uploads stored: the
// page reads the registry through the same JSON API, whatever the backend or instance.
import * as assert from 'uvu/assert'
import type { Page } from 'playwright-core'
import { chromiumMissing, openBrowser, signIn, waitInPage } from '../helpers/browser.js'
import { underCi } from '../helpers/ci.js'
import { pgSuite } from '../helpers/pg-suite.js'
import { until } from './fixtures/deploy-world.js'
import { scaleOutWorld } from './fixtures/scale-out-world.js'

const pg = pgSuite('the dashboard on the PostgreSQL cloud, from any instance', { mosquitto: true })
const { test, realTest } = pg
const missing = chromiumMissing()

const LIVE = "document.querySelector('.live')?.textContent.includes('live') === true"
/** The status cell's words of a device's row in the table. */
const stateOf = async (page: Page, id: string): Promise<string> =>
  await page.locator('[role="row"]', { has: page.getByRole('link', { name: id, exact: true }) }).locator('.c-state').innerText()

realTest('signed in on either instance, the page lists both devices online, and a device page shows results the other instance stored', async () => {
  if (missing !== undefined) {
    if (underCi()) throw new Error(`under CI, and ${missing}`)
    console.log(`skipped: ${missing}`)
    return
  }
  const w = await scaleOutWorld(pg.server)
  const browser = await openBrowser()
  try {
    const a = await w.startCloud('a')
    const b = await w.startCloud('b')
    const ids = ['dash-1', 'dash-2']
    await w.startAgents(await w.addDevices(ids), 40)
    // Every record stored, by whichever instance the shared subscription gave each batch to.
    await until('all records stored', async () => Number((await w.sql<{ n: string }>('SELECT count(*) AS n FROM lambkin.records WHERE fn = $1', ['load']))[0].n) === 80, 60_000)
    for (const inst of [a, b]) {
      const page = await browser.page()
      await signIn(page, `${inst.api}/`, w.token())
      await page.getByText('Showing 2 of 2 devices').waitFor()
      await waitInPage(page, LIVE)
      for (const id of ids) await until(`${id} online on instance ${inst.name}`, async () => /online/.test(await stateOf(page, id)), 30_000)
      await page.getByRole('link', { name: 'dash-1', exact: true }).click()
      // The device page's recent results: the newest of dash-1's 40, whichever instance stored it.
      await page.getByText('"n":40').first().waitFor({ timeout: 30_000 })
      await page.close()
    }
    assert.equal(browser.errors, [], 'no errors in the page')
  } finally {
    await browser.close()
    await w.cleanup()
  }
})

test.run()

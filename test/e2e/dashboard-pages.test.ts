// The dashboard with 5,000 devices reads the fleet in pages, in Chromium against a real cloud
// on a real LevelDB registry: no /v1/fleet answer holds more than a page (2,000 rows), the
// table shows the first page while the rest is read (held back here until the test lets it
// go) and says how far it got, then every device, with only the rows in view in the page.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Route } from 'playwright-core'
import { Cloud, operatorToken } from '../../cloud-sync/index.js'
import type { FleetPage } from '../../cloud-sync/api/dashboard-types.js'
import { LevelRegistry } from '../../cloud-sync/registry/index.js'
import { chromiumMissing, openBrowser, signIn, waitInPage } from '../helpers/browser.js'
import type { TestBrowser } from '../helpers/browser.js'

const missing = chromiumMissing()
const N = 5000
const id = (i: number): string => `sim-${String(i).padStart(5, '0')}`

let dir: string
let cloud: Cloud
let browser: TestBrowser

async function writeFleet (): Promise<void> {
  const r = await LevelRegistry.open(dir)
  const now = Date.now()
  try {
    for (let i = 0; i < N; i++) {
      await r.addDevice({ id: id(i), group: `g${i % 10}`, secretHash: 'unused', createdAt: now })
      if (i % 4 === 0) await r.touch(id(i), { lastSeen: now, status: { state: 'online', agent: '0.1.0', functions: [{ name: 'thermo', version: '0123456789abcdef' }], heartbeatMs: 30_000 } })
    }
  } finally {
    await r.close()
  }
}

const shown = "document.querySelector('.count')?.textContent"

if (missing !== undefined) {
  console.log(`dashboard-pages: skipped: ${missing}`)
} else {
  test.before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lambkin-cloud-pages-'))
    await writeFleet()
    cloud = await Cloud.create({ dataDir: dir, port: 0, apiPort: 0 })
    browser = await openBrowser()
  })
  test.after(async () => {
    await browser?.close()
    await cloud?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('5,000 devices come in pages of at most 2,000: the first shows at once, the rest as it is read', async () => {
    const page = await browser.page()
    const answers: Array<{ url: string, devices: number, next: string | null }> = []
    page.on('response', (res) => {
      if (!res.url().includes('/v1/fleet')) return
      void res.json().then((v: FleetPage) => { answers.push({ url: res.url(), devices: v.devices.length, next: v.next }) }, () => {})
    })
    // Pages after the first wait until the test lets them go.
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    await page.route(/\/v1\/fleet\?.*after=/, async (route: Route) => { await held; await route.continue() })
    await signIn(page, `${cloud.api.url}/`, operatorToken(dir).token)
    await waitInPage(page, `${shown} === 'Showing 2,000 of 2,000 devices (reading the fleet: 2,000 of 5,000…)'`, 60_000)
    const rendered = await page.locator('.rows [role="row"]').count()
    assert.ok(rendered > 10 && rendered < 100, `rows in the page: ${rendered}`)
    // The summary counts the whole fleet from the first page on.
    assert.match(await page.locator('.figures').innerText(), /5,000/)
    release()
    await waitInPage(page, `${shown} === 'Showing 5,000 of 5,000 devices'`, 60_000)
    assert.ok(answers.length >= 3, JSON.stringify(answers))
    for (const a of answers) {
      assert.ok(a.devices <= 2000, `${a.url}: ${a.devices} rows`)
      assert.match(a.url, /limit=2000/)
    }
    assert.equal(answers.filter((a) => a.next === null).map((a) => a.devices), [1000])
    // A device of the last page is there, and the page still holds only the rows in view.
    await page.getByLabel('Search').fill(id(N - 1))
    await waitInPage(page, `${shown} === 'Showing 1 of 5,000 devices'`)
    await page.getByLabel('Search').fill('')
    await page.locator('.scroller').evaluate((el) => { el.scrollTop = el.scrollHeight })
    await waitInPage(page, "document.querySelectorAll('.rows [role=\"row\"]').length > 10")
    assert.ok(await page.locator('.rows [role="row"]').count() < 100)
    await page.close()
  })

  test('GET /v1/fleet pages like /v1/devices: default 500, next, and 400 for a bad limit or cursor', async () => {
    const token = operatorToken(dir).token
    const get = async (q: string): Promise<{ status: number, body: FleetPage & { error?: { code: string } } }> => {
      const res = await fetch(`${cloud.api.url}/v1/fleet${q}`, { headers: { authorization: `Bearer ${token}` } })
      return { status: res.status, body: await res.json() as FleetPage & { error?: { code: string } } }
    }
    const first = await get('')
    assert.equal([first.body.devices.length, first.body.next, first.body.summary.devices.total], [500, id(499), N])
    assert.equal(first.body.devices.map((d) => d.id), Array.from({ length: 500 }, (_, i) => id(i)))
    const last = await get(`?after=${id(4997)}&limit=5`)
    assert.equal([last.body.devices.map((d) => d.id), last.body.next], [[id(4998), id(4999)], null])
    assert.equal((await get('?after=constructor&limit=1')).body.devices.map((d) => d.id), [id(0)])
    assert.equal([(await get('?limit=2001')).status, (await get('?limit=2001')).body.error?.code], [400, 'LAMBKIN_PAGE_LIMIT_INVALID'])
    assert.equal([(await get('?after=__proto__')).status, (await get('?after=%25')).body.error?.code], [400, 'LAMBKIN_CURSOR_INVALID'])
  })

  test.run()
}

// The devices table with 10,000 devices, in Chromium: registry rows written straight into a
// real LevelDB registry (as that many boards would have left them), then a real cloud on it.
// The table renders them (only the rows in view are in the page), filters by search, group and
// status, and sorts; the counts it shows match the rows.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Cloud, operatorToken } from '../../cloud-sync/index.js'
import { LevelRegistry } from '../../cloud-sync/registry/index.js'
import { chromiumMissing, openBrowser, screenshot, signIn, waitInPage } from '../helpers/browser.js'
import type { TestBrowser } from '../helpers/browser.js'

const missing = chromiumMissing()
const N = 10_000
const GROUPS = 20
const id = (i: number): string => `sim-${String(i).padStart(5, '0')}`
/** Every 50th device is revoked, every 7th was never seen, the rest reported once and went offline. */
const revoked = (i: number): boolean => i % 50 === 49
const neverSeen = (i: number): boolean => !revoked(i) && i % 7 === 3

let dir: string
let cloud: Cloud
let browser: TestBrowser

async function writeFleet (): Promise<void> {
  const r = await LevelRegistry.open(dir)
  const now = Date.now()
  try {
    for (let i = 0; i < N; i++) {
      await r.addDevice({ id: id(i), group: `g${String(i % GROUPS).padStart(2, '0')}`, secretHash: 'unused', createdAt: now - 86_400_000 })
      if (revoked(i)) await r.revokeDevice(id(i), now - 1000)
      if (revoked(i) || neverSeen(i)) continue
      await r.touch(id(i), {
        lastSeen: now - (i % 3600) * 1000,
        status: { state: 'online', agent: i % 10 === 0 ? '0.0.9' : '0.1.0', functions: [{ name: 'thermo', version: '0123456789abcdef' }, { name: i % 2 === 0 ? 'fan' : 'pump', version: 'fedcba9876543210' }], heartbeatMs: 30_000 },
        heartbeat: { time: now, backlog: { records: i % 100, bytes: (i % 100) * 120 }, uploadedToday: i * 10, lastSeq: 0 }
      })
    }
  } finally {
    await r.close()
  }
}

const shown = "document.querySelector('.count')?.textContent"

if (missing !== undefined) {
  console.log(`dashboard-scale: skipped: ${missing}`)
} else {
  test.before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lambkin-cloud-10k-'))
    await writeFleet()
    cloud = await Cloud.create({ dataDir: dir, port: 0, apiPort: 0 })
    browser = await openBrowser()
  })
  test.after(async () => {
    await browser?.close()
    await cloud?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('10,000 devices render, filter and sort; only the rows in view are in the page', async () => {
    const page = await browser.page()
    await signIn(page, `${cloud.api.url}/`, operatorToken(dir).token)
    await page.getByText('Showing 10,000 of 10,000 devices').waitFor({ timeout: 60_000 })
    const rendered = await page.locator('.rows [role="row"]').count()
    assert.ok(rendered > 10 && rendered < 100, `rows in the page: ${rendered}`)
    const summary = await page.locator('.figures').innerText()
    const count = (f: (i: number) => boolean): number => Array.from({ length: N }, (_, i) => i).filter(f).length
    assert.match(summary, new RegExp(`${count(neverSeen).toLocaleString('en-US')} never seen, ${count(revoked)} revoked`))

    // Search: ids, groups and function names.
    await page.getByLabel('Search').fill('sim-0042')
    await waitInPage(page, `${shown} === 'Showing 10 of 10,000 devices'`)
    await page.getByLabel('Search').fill('pump')
    const pumps = count((i) => !revoked(i) && !neverSeen(i) && i % 2 === 1)
    await waitInPage(page, `${shown} === 'Showing ${pumps.toLocaleString('en-US')} of 10,000 devices'`)
    await page.getByLabel('Search').fill('')

    // Group and status together.
    await page.getByLabel('Group').selectOption('g07')
    await waitInPage(page, `${shown} === 'Showing 500 of 10,000 devices'`)
    await page.getByLabel('Status').selectOption('revoked')
    const g07revoked = count((i) => i % GROUPS === 7 && revoked(i))
    await waitInPage(page, `${shown} === 'Showing ${g07revoked} of 10,000 devices'`)
    assert.ok((await page.locator('.rows .c-state').allInnerTexts()).every((s) => s.includes('revoked')))
    await page.getByLabel('Group').selectOption('')
    await page.getByLabel('Status').selectOption('')
    await waitInPage(page, `${shown} === 'Showing 10,000 of 10,000 devices'`)

    // Sort by device, descending: the last id comes first; scrolling to the end shows the first.
    const header = page.getByRole('columnheader', { name: /Device/ })
    await header.getByRole('button').click()
    assert.is(await header.getAttribute('aria-sort'), 'ascending')
    assert.is(await page.locator('.rows .c-id').first().innerText(), id(0))
    await header.getByRole('button').click()
    assert.is(await header.getAttribute('aria-sort'), 'descending')
    assert.is(await page.locator('.rows .c-id').first().innerText(), id(N - 1))
    await page.locator('.scroller').evaluate((el) => { el.scrollTop = el.scrollHeight })
    await page.getByRole('link', { name: id(0), exact: true }).waitFor()
    assert.ok(await page.locator('.rows [role="row"]').count() < 100)
    await page.locator('.scroller').evaluate((el) => { el.scrollTop = 0 })
    await screenshot(page, 'devices-10k')
    assert.equal(browser.errors, [])
    await page.close()
  })
}

test.run()

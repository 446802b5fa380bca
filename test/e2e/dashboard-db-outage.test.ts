// Field: the dashboard open while the cloud's PostgreSQL is down (a restart, a failover). The
// live view's refreshes failed silently: the page stayed "live" showing the fleet as it was,
// devices online, while the cloud could store nothing. The event stream must end on a failed
// refresh, so the page reconnects and learns why (GET /v1/fleet: 503 LAMBKIN_DB_UNAVAILABLE,
// shown as "reconnecting" with the reason), and be live again once the database answers. A real
// `lambkin cloud --db` child process, a real PostgreSQL stopped for a few seconds.
import { pgSuite } from '../helpers/pg-suite.js'
import * as assert from 'uvu/assert'
import { chromiumMissing, openBrowser, signIn, waitInPage } from '../helpers/browser.js'
import { deployWorld, until } from './fixtures/deploy-world.js'

const pg = pgSuite('the dashboard\'s live view through a database outage')
const { test, realTest } = pg

realTest('an open /v1/events stream ends when a refresh fails with the database down; /v1/fleet says 503 LAMBKIN_DB_UNAVAILABLE; both work again once it is back', async () => {
  const w = await deployWorld({ cloudArgs: ['--db', await pg.server.createDatabase()] })
  const auth = { authorization: `Bearer ${w.env.LAMBKIN_TOKEN}` }
  try {
    await w.addDevice('dash-1')
    const res = await fetch(`${w.env.LAMBKIN_API}/v1/events`, { headers: auth })
    assert.is(res.status, 200)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    let text = ''
    let ended = false
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }))
        if (done) break
        text += Buffer.from(value as Uint8Array).toString('utf8')
      }
      ended = true
    })()
    await until('the stream to say hello', () => text.includes('event: hello'))
    await pg.server.stop('fast')
    try {
      await until('the stream to end while the database is down', () => ended, 20_000)
      assert.match(text, /event: fault\ndata: \{"code":"LAMBKIN_DB_UNAVAILABLE","message":"[^"]*PostgreSQL/, 'the stream says why before it ends')
      const fleet = await fetch(`${w.env.LAMBKIN_API}/v1/fleet`, { headers: auth })
      const body = await fleet.json() as { error?: { code?: string } }
      assert.equal([fleet.status, body.error?.code], [503, 'LAMBKIN_DB_UNAVAILABLE'])
    } finally {
      await pg.server.start()
    }
    await reading
    await until('the fleet to load again', async () => (await fetch(`${w.env.LAMBKIN_API}/v1/fleet`, { headers: auth })).status === 200, 30_000)
    const again = await fetch(`${w.env.LAMBKIN_API}/v1/events`, { headers: auth })
    assert.is(again.status, 200)
    await again.body?.cancel()
  } finally {
    await w.cleanup()
  }
})

realTest('in Chromium: the live marker turns from live to reconnecting, naming the database, while it is down, and back to live after', async () => {
  const missing = chromiumMissing()
  if (missing !== undefined) { console.log(`skipped: ${missing}`); return }
  const w = await deployWorld({ cloudArgs: ['--db', await pg.server.createDatabase()] })
  const browser = await openBrowser()
  try {
    await w.addDevice('dash-1')
    const page = await browser.page()
    await signIn(page, `${w.env.LAMBKIN_API}/`, w.env.LAMBKIN_TOKEN)
    await page.getByText('Showing 1 of 1 devices').waitFor()
    await waitInPage(page, "document.querySelector('.live-live')")
    await pg.server.stop('fast')
    try {
      const why = await waitInPage<string>(page, "document.querySelector('.live-reconnecting')?.title", 30_000)
      assert.match(why, 'cannot be reached', why)
    } finally {
      await pg.server.start()
    }
    await waitInPage(page, "document.querySelector('.live-live')", 60_000)
  } finally {
    await browser.close()
    await w.cleanup()
  }
})

test.run()

// Two clients on one device id, seen from the dashboard's fleet view, on a real cloud (aedes,
// Fastify) over each registry backend (LevelDB, then a real PostgreSQL): the broker closes the
// open connection each time the other connects (MQTT-3.1.4-2), the cloud counts each takeover
// (broker/takeovers.ts), and GET /v1/fleet's row for the device says it is fought over (count,
// recent, when the last was) as GET /v1/devices/:id does, with the summary counting it; a
// device with one client keeps no takeovers, and the warning leaves once the takeovers are
// older than the window.
import { suite } from 'uvu'
import type { Test } from 'uvu'
import * as assert from 'uvu/assert'
import type { FleetView } from '../../cloud-sync/api/dashboard-types.js'
import { TAKEOVER_WINDOW_MS } from '../../cloud-sync/api/views.js'
import { startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { pgSuite } from '../helpers/pg-suite.js'
import { until } from '../helpers/deploy.js'

interface DeviceView { state: string, takeovers: { count: number, recent: number, lastAt: number | null }, problems: string[] }

const fleet = async (f: CloudFixture): Promise<FleetView> => (await f.api<FleetView>('GET', '/v1/fleet')).body
const rowOf = (v: FleetView, id: string): FleetView['devices'][number] | undefined => v.devices.find((d) => d.id === id)

/** The case itself, on whichever registry `open` starts the cloud with. */
async function foughtOver (open: (clock: FakeClock) => Promise<CloudFixture>): Promise<void> {
  const clock = new FakeClock(Date.now())
  const f = await open(clock)
  try {
    const twin = await f.addDevice('twin-1', 'lab')
    await f.connect('solo-1', await f.addDevice('solo-1', 'lab'), { clean: false })
    // Four connects on one id: each after the first takes over the one before.
    for (let i = 0; i < 4; i++) await f.connect('twin-1', twin, { clean: false })
    let v = await fleet(f)
    const seen = async (pred: (r: FleetView['devices'][number] | undefined) => boolean): Promise<void> => {
      await until(async () => { v = await fleet(f); return pred(rowOf(v, 'twin-1')) })
    }
    await seen((r) => r?.takeovers?.count === 3)
    const row = rowOf(v, 'twin-1')
    assert.equal(row?.takeovers, { count: 3, recent: 3, lastAt: clock.now(), shared: true })
    assert.is(v.summary.devices.shared, 1)
    assert.is(rowOf(v, 'solo-1')?.takeovers, null, 'one client on its id is never a takeover')
    // The fleet row agrees with the device's own view, which `lambkin status` prints.
    const own = (await f.api<DeviceView>('GET', '/v1/devices/twin-1')).body
    assert.equal(own.takeovers, { count: 3, recent: 3, lastAt: row?.takeovers?.lastAt })
    assert.match(own.problems.join('\n'), `two clients share this id: 3 takeovers of its connection in the last 10 min (3 in all, the last at ${new Date(clock.now()).toISOString()}); give each board its own id`)

    // Once the takeovers are older than the window, the warning goes; the count stays.
    await clock.advance(TAKEOVER_WINDOW_MS)
    await seen((r) => r?.takeovers?.shared === false)
    assert.equal(rowOf(v, 'twin-1')?.takeovers, { count: 3, recent: 0, lastAt: row?.takeovers?.lastAt, shared: false })
    assert.is(v.summary.devices.shared, 0)
  } finally {
    await f.cleanup()
  }
}

const TITLE = 'two clients fighting over one id show on the device\'s fleet row with how many takeovers and when, and leave it once the window passed'

const level: Test = suite('fleet takeovers on LevelDB')
level(TITLE, async () => { await foughtOver(async (clock) => await startCloud({ clock })) })
level.run()

const pg = pgSuite('fleet takeovers on PostgreSQL')
pg.realTest(TITLE, async () => {
  const url = await pg.server.createDatabase()
  await foughtOver(async (clock) => await startCloud({ clock, db: { url, retentionDays: 0 } }))
})
pg.test.run()

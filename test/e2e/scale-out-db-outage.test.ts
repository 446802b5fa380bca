// Field: PostgreSQL gone for 20 s (a crash-like `pg_ctl stop -m immediate`, a host reboot)
// under load, with two cloud instances on one Mosquitto (docs/scale-out.md, "Faults"): the API
// answers 503 LAMBKIN_DB_UNAVAILABLE on both all along, neither instance exits, and once the
// database is back every record is stored exactly once and every one acknowledged.
import { pgSuite } from '../helpers/pg-suite.js'
import * as assert from 'uvu/assert'
import { until } from './fixtures/deploy-world.js'
import { scaleOutWorld, storedPerDevice } from './fixtures/scale-out-world.js'
import type { ScaleOutWorld } from './fixtures/scale-out-world.js'

const pg = pgSuite('cloud instances side by side, the database down for 20 s', { mosquitto: true })
const { test, realTest } = pg

const total = async (w: ScaleOutWorld): Promise<number> => [...(await storedPerDevice(w)).values()].reduce((n, s) => n + s.distinct, 0)

realTest('PostgreSQL stopped (immediate) for 20 s under load: 503 LAMBKIN_DB_UNAVAILABLE on both meanwhile, both stay up, then every record stored once and acknowledged', async () => {
  const w = await scaleOutWorld(pg.server)
  try {
    const a = await w.startCloud('a')
    const b = await w.startCloud('b')
    let exits = 0
    for (const i of [a, b]) void i.proc.exited.then(() => { exits++ })
    const ids = Array.from({ length: 6 }, (_, i) => `outage-${i}`)
    const N = 400
    await w.startAgents(await w.addDevices(ids), N, { uploadBytesPerSec: 3000 })
    await until('some uploaded', async () => await total(w) >= ids.length * N / 6, 60_000)

    assert.ok(await total(w) < ids.length * N, 'the outage comes before the end of the upload')
    await pg.server.stop('immediate')
    const downUntil = Date.now() + 20_000
    try {
      await until('health to say so on both', async () => (await fetch(`${a.api}/v1/health`)).status === 503 && (await fetch(`${b.api}/v1/health`)).status === 503, 30_000)
      // Every few seconds of the outage, both still answer, with the stable code.
      while (Date.now() < downUntil) {
        for (const i of [a, b]) {
          const res = await fetch(`${i.api}/v1/devices`, { headers: { authorization: `Bearer ${w.token()}` } })
          const body = await res.json() as { error?: { code?: string } }
          assert.equal([res.status, body.error?.code], [503, 'LAMBKIN_DB_UNAVAILABLE'], `${i.name} while the database is down`)
        }
        await new Promise((resolve) => setTimeout(resolve, 2000))
      }
      assert.is(exits, 0, 'no instance exited while the database was down')
    } finally {
      await pg.server.start()
    }
    await until('health to recover', async () => (await fetch(`${a.api}/v1/health`)).status === 200 && (await fetch(`${b.api}/v1/health`)).status === 200, 60_000)
    await until('every record stored', async () => await total(w) === ids.length * N, 180_000)
    const s = await storedPerDevice(w)
    for (const id of ids) assert.equal(s.get(id), { rows: N, distinct: N, min: 1, max: N }, `${id}: seqs 1..${N}, each once`)
    const counts = await w.sql<{ id: string, stored: string }>('SELECT id, stored FROM lambkin.devices ORDER BY id')
    assert.equal(counts.map((c) => [c.id, Number(c.stored)]), [...ids].sort().map((id) => [id, N]))
    await until('every stream acknowledged to the end', async () => Number((await w.sql<{ hw: string }>('SELECT min(high_water) AS hw FROM lambkin.streams'))[0].hw) >= N, 30_000)
    assert.is(exits, 0, 'both instances still up')
    // The acks reach the devices through the broker: give the last ones a moment, then count.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    assert.is(await w.leftInOutboxes(), 0, 'every record acknowledged: none left on the devices')
  } finally {
    await w.cleanup()
  }
})

test.run()

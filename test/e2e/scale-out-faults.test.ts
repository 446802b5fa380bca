// Several cloud instances on one Mosquitto and one PostgreSQL under load (docs/scale-out.md):
// one instance SIGKILLed and started again while 20 agents upload; then PostgreSQL restarted
// and Mosquitto restarted under load; one instance with a short session expiry SIGKILLed for
// good. Each time: every record stored exactly once, in order per stream with no hole, and
// every one acknowledged (none left on the devices).
import { pgSuite } from '../helpers/pg-suite.js'
import * as assert from 'uvu/assert'
import { until } from './fixtures/deploy-world.js'
import { scaleOutWorld, storedPerDevice } from './fixtures/scale-out-world.js'
import type { ScaleOutWorld } from './fixtures/scale-out-world.js'

const pg = pgSuite('cloud instances side by side, under faults', { mosquitto: true })
const { test, realTest } = pg

const total = async (w: ScaleOutWorld): Promise<number> => [...(await storedPerDevice(w)).values()].reduce((n, s) => n + s.distinct, 0)

/** Every device has seqs 1..n, each once, and the stream's high-water (what down/ack carried) reached n. */
async function exactlyOnce (w: ScaleOutWorld, ids: string[], n: number): Promise<void> {
  await until('every record stored', async () => await total(w) === ids.length * n, 120_000)
  const s = await storedPerDevice(w)
  for (const id of ids) assert.equal(s.get(id), { rows: n, distinct: n, min: 1, max: n }, `${id}: seqs 1..${n}, each once`)
  await until('every stream acknowledged to the end', async () => Number((await w.sql<{ hw: string }>('SELECT min(high_water) AS hw FROM lambkin.streams'))[0].hw) >= n, 30_000)
  // The registry's own count: a batch stored twice would count twice.
  const counts = await w.sql<{ id: string, stored: string, gaps: string }>('SELECT id, stored, gaps FROM lambkin.devices ORDER BY id')
  assert.equal(counts.map((c) => [c.id, Number(c.stored), Number(c.gaps)]), [...ids].sort().map((id) => [id, n, 0]))
  // The acks reach the devices through the broker: give the last ones a moment, then count.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  assert.is(await w.leftInOutboxes(), 0, 'every record acknowledged: none left on the devices')
}

const stats = async (w: ScaleOutWorld, name: string): Promise<{ uploads: number }> => {
  const i = w.instances.get(name)
  if (i === undefined) throw new Error(name)
  const body = await (await fetch(`${i.api}/v1/status`, { headers: { authorization: `Bearer ${w.token()}` } })).json() as { cloud: { broker: { uploads: number } } }
  return body.cloud.broker
}

realTest('two instances, 20 agents uploading, one instance SIGKILLed and started again mid-load: every record stored exactly once, in order per stream', async () => {
  const w = await scaleOutWorld(pg.server)
  try {
    await w.startCloud('a')
    await w.startCloud('b')
    const ids = Array.from({ length: 20 }, (_, i) => `fleet-${String(i).padStart(2, '0')}`)
    const N = 300
    // A bandwidth limit stretches each upload over seconds, so the kill lands in the middle.
    await w.startAgents(await w.addDevices(ids), N, { uploadBytesPerSec: 2500 })
    await until('a quarter uploaded', async () => await total(w) >= ids.length * N / 4, 60_000)
    const [sa, sb] = [await stats(w, 'a'), await stats(w, 'b')]
    assert.ok(sa.uploads > 0 && sb.uploads > 0, `both instances take uploads (${sa.uploads}, ${sb.uploads})`)
    await w.instances.get('a')?.proc.stop('SIGKILL')
    const atKill = await total(w)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    assert.ok(await total(w) > atKill, 'the other instance goes on alone')
    const again = await w.startCloud('a')
    await again.proc.waitFor('stderr', /connected to the broker .* \(session resumed\)/)
    assert.ok(await total(w) < ids.length * N, 'the restart came before the end of the upload')
    await exactlyOnce(w, ids, N)
  } finally {
    await w.cleanup()
  }
})

realTest('PostgreSQL restarted under load, then Mosquitto restarted under load: the API says 503 LAMBKIN_DB_UNAVAILABLE meanwhile, nothing acknowledged is lost, nothing stored twice', async () => {
  const w = await scaleOutWorld(pg.server)
  try {
    const a = await w.startCloud('a')
    const b = await w.startCloud('b')
    const ids = Array.from({ length: 6 }, (_, i) => `load-${i}`)
    const N = 600
    await w.startAgents(await w.addDevices(ids), N, { uploadBytesPerSec: 3000 })
    await until('some uploaded', async () => await total(w) >= ids.length * N / 6, 60_000)

    await pg.server.stop()
    try {
      // Each instance finds out on its own (a failed call or its 1 s probe): wait for both.
      await until('health to say so on both', async () => (await fetch(`${a.api}/v1/health`)).status === 503 && (await fetch(`${b.api}/v1/health`)).status === 503, 30_000)
      const health = await (await fetch(`${b.api}/v1/health`)).json() as { ok: boolean, error?: { code: string } }
      assert.equal([health.ok, health.error?.code], [false, 'LAMBKIN_DB_UNAVAILABLE'])
      await new Promise((resolve) => setTimeout(resolve, 1500))
    } finally {
      await pg.server.start()
    }
    await until('health to recover', async () => (await fetch(`${a.api}/v1/health`)).status === 200 && (await fetch(`${b.api}/v1/health`)).status === 200, 30_000)
    const afterDb = await total(w)
    await until('the upload to go on', async () => await total(w) > afterDb + 50, 60_000)

    await w.mosquitto.kill()
    await a.proc.waitFor('stderr', /LAMBKIN_BROKER_UNAVAILABLE: the connection to the broker .* is lost; uploads are not acknowledged until it is back/)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    await w.mosquitto.start()
    await a.proc.waitFor('stderr', /the broker .* answers again after \d+ s; uploads are acknowledged again/, 30_000)
    await b.proc.waitFor('stderr', /the broker .* answers again/, 30_000)
    assert.ok(await total(w) < ids.length * N, 'the broker restart came before the end of the upload')
    await exactlyOnce(w, ids, N)
  } finally {
    await w.cleanup()
  }
})

realTest('an instance with a 10 s session expiry SIGKILLed for good under load: its share goes to the other once the session is gone, every record stored exactly once', async () => {
  const w = await scaleOutWorld(pg.server)
  try {
    await w.startCloud('a', ['--session-expiry', '10'])
    await w.startCloud('b', ['--session-expiry', '10'])
    const ids = Array.from({ length: 10 }, (_, i) => `gone-${i}`)
    const N = 300
    await w.startAgents(await w.addDevices(ids), N, { uploadBytesPerSec: 2500 })
    await until('a quarter uploaded', async () => await total(w) >= ids.length * N / 4, 60_000)
    assert.ok((await stats(w, 'a')).uploads > 0, 'a takes its share')
    // Uploads a had taken and not acknowledged die with its session; the devices send them again.
    await w.instances.get('a')?.proc.stop('SIGKILL')
    assert.ok(await total(w) < ids.length * N, 'the kill came before the end of the upload')
    await exactlyOnce(w, ids, N)
  } finally {
    await w.cleanup()
  }
})

test.run()

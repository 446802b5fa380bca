// What crosses between two `lambkin cloud --broker --db` instances on the PostgreSQL bus
// (docs/scale-out.md, "Several instances"), on a real Mosquitto and PostgreSQL with a real agent:
// a remote-invoke answer up to a function's 1 MiB result cap, taken by the instance the broker
// gave it to and answered through the one holding the request; records stored by either
// instance wake the followers (logs -f) waiting on both, with their poll set longer than the wait.
import { pgSuite } from '../helpers/pg-suite.js'
import path from 'node:path'
import * as assert from 'uvu/assert'
import { until } from './fixtures/deploy-world.js'
import { writeFunctions } from './fixtures/lambkin-process.js'
import { scaleOutWorld } from './fixtures/scale-out-world.js'
import type { CloudInstance, ScaleOutWorld } from './fixtures/scale-out-world.js'

const pg = pgSuite('cloud instances side by side: what crosses the bus', { mosquitto: true })
const { realTest } = pg

async function api<T> (w: ScaleOutWorld, base: string, route: string, init: RequestInit = {}): Promise<{ status: number, body: T }> {
  const res = await fetch(`${base}${route}`, { ...init, headers: { authorization: `Bearer ${w.token()}`, 'content-type': 'application/json' } })
  return { status: res.status, body: await res.json() as T }
}

interface InvokeStats { invokeResultsRelayed: number, invokeResultsUnmatched: number }
async function invokeStats (w: ScaleOutWorld, i: CloudInstance): Promise<InvokeStats> {
  return (await api<{ cloud: { deploy: InvokeStats } }>(w, i.api, '/v1/status')).body.cloud.deploy
}

async function onlineOn (w: ScaleOutWorld, instances: CloudInstance[], id: string): Promise<void> {
  await until(`${id} online on every instance`, async () => {
    for (const i of instances) if ((await api<{ state: string }>(w, i.api, `/v1/devices/${id}`)).body.state !== 'online') return false
    return true
  }, 30_000)
}

realTest('[W7] a remote-invoke answer of 200 KB and one at the 1 MiB result cap, taken by the other instance, answer the request', async () => {
  const w = await scaleOutWorld(pg.server)
  try {
    const a = await w.startCloud('a')
    const b = await w.startCloud('b')
    const secrets = await w.addDevices(['big-1'])
    writeFunctions(path.join(w.root, 'agents', 'big-1', 'functions'), { big: { code: 'export default (e) => ({ s: "é".repeat(e.chars) })' } })
    await w.startAgents(secrets, 0)
    await onlineOn(w, [a, b], 'big-1')
    const relayed = async (): Promise<number> => (await invokeStats(w, a)).invokeResultsRelayed + (await invokeStats(w, b)).invokeResultsRelayed
    // The result cap counts UTF-8 bytes of the JSON (docs/functions.md): `{"s":"…"}` is 8 bytes around 2 per "é".
    for (const chars of [100_000, (1024 * 1024 - 8) / 2]) {
      const before = await relayed()
      // The broker gives each answer to either instance; go on until one crossed the bus.
      let tries = 0
      while (await relayed() === before) {
        assert.ok(++tries <= 24, `no answer of ${chars * 2} bytes reached the instance not holding its request in 24 invocations`)
        const through = tries % 2 === 0 ? a : b
        const r = await api<{ ok: boolean, result: { s: string } }>(w, through.api, '/v1/devices/big-1/invoke', { method: 'POST', body: JSON.stringify({ fn: 'big', event: { chars }, timeoutMs: 20_000 }) })
        assert.is(r.status, 200, JSON.stringify(r.body).slice(0, 300))
        assert.ok(r.body.ok)
        assert.is(r.body.result.s.length, chars)
        assert.ok(r.body.result.s === 'é'.repeat(chars), 'the answer as the function gave it')
      }
    }
    for (const i of [a, b]) assert.is((await invokeStats(w, i)).invokeResultsUnmatched, 0, `${i.name}: every answer reached its request`)
    const left = await w.sql<{ n: string }>('SELECT count(*) AS n FROM lambkin.bus_parcels')
    assert.is(Number(left[0].n), 0, 'every parcel claimed')
  } finally {
    await w.cleanup()
  }
})

realTest('records stored by one instance wake the followers on both, whose poll is longer than their wait: each record once and in order', async () => {
  const w = await scaleOutWorld(pg.server)
  try {
    // A follower reads the database only when a note wakes it or its wait (30 s) runs out: its
    // poll (10 min) is longer. The test's follower gives up after 15 s, so a wait that ran out fails it.
    const a = await w.startCloud('a', ['--follow-poll', '600000'])
    const b = await w.startCloud('b', ['--follow-poll', '600000'])
    const N = 100
    const ids = ['lg-1', 'lg-2', 'lg-3']
    const secrets = await w.addDevices(ids)
    const follow = async (i: CloudInstance, id: string): Promise<number[]> => {
      const seqs: number[] = []
      while (seqs.length < N) {
        const route = `/v1/devices/${id}/records?fn=load&after=${seqs.at(-1) ?? 0}&wait=30000&limit=1000`
        const r = await api<{ records: Array<{ seq: number }> }>(w, i.api, route, { signal: AbortSignal.timeout(15_000) })
          .catch((err: Error) => { throw new Error(`${i.name}: ${id} not woken after seq ${seqs.at(-1) ?? 0} of ${N} (${err.name})`) })
        assert.is(r.status, 200, JSON.stringify(r.body))
        assert.ok(r.body.records.length > 0, `${i.name}: ${id} answered with nothing after seq ${seqs.at(-1) ?? 0} of ${N}`)
        seqs.push(...r.body.records.map((x) => x.seq))
      }
      return seqs
    }
    // Both wait before the devices upload. Each device's records go in one batch, which the
    // broker gives to one instance: the follower on the other is woken by that one's note.
    const followers = ids.flatMap((id) => [follow(a, id), follow(b, id)])
    await new Promise((resolve) => setTimeout(resolve, 500))
    await w.startAgents(secrets, N, { batchRecords: N })
    const want = Array.from({ length: N }, (_, k) => k + 1)
    for (const seqs of await Promise.all(followers)) assert.equal(seqs, want)
  } finally {
    await w.cleanup()
  }
})

pg.test.run()

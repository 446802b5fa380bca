// Reading a rollout while the engine changes it, over each registry backend (LevelDB, then a real
// PostgreSQL): a reader (the operator API's GET, `lambkin rollout status`, the dashboard) sees
// one stored revision whole, never the devices of one revision with the head of another, nor the
// engine's row halfway through a change (devices judged, the rollout not yet done).
import { suite } from 'uvu'
import type { Test } from 'uvu'
import * as assert from 'uvu/assert'
import type { RolloutView } from '../../cloud-sync/index.js'
import type { CloudOptions } from '../../cloud-sync/index.js'
import type { RolloutDevice, RolloutRow } from '../../cloud-sync/registry/index.js'
import { countDevices } from '../../cloud-sync/rollouts/judge.js'
import { startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import { SimDevice, makeBundle, makeKeys, untilRollout, upload } from '../helpers/deploy.js'
import { pgSuite } from '../helpers/pg-suite.js'

const keys = makeKeys()
type Open = (o: Partial<CloudOptions>) => Promise<CloudFixture>

/** A rollout row whose every device carries `rev` (in `at`) and whose head says `rev` too. */
function revision (base: RolloutRow, rev: number): RolloutRow {
  const devices: RolloutDevice[] = base.devices.map((d) => ({ ...d, state: rev % 2 === 0 ? 'sent' : 'applied', at: rev }))
  return { ...base, revision: rev, state: rev % 2 === 0 ? 'running' : 'done', counts: countDevices(devices), devices }
}

/** What a reader may see: one revision whole. */
function whole (r: Pick<RolloutRow, 'revision' | 'state' | 'counts'> & { devices: Array<Pick<RolloutDevice, 'at' | 'state'>> }, what: string): void {
  const at = [...new Set(r.devices.map((d) => d.at))]
  assert.equal(at, [r.revision], `${what}: devices of revision(s) ${at.join(', ')} under the head of revision ${r.revision} (${r.state})`)
  assert.equal(r.counts, countDevices(r.devices as RolloutDevice[]), `${what}: counts agree with the devices`)
}

/** The registry's rollout write and reads, side by side: every read is one stored revision. */
async function registryReads (open: Open): Promise<void> {
  const f = await open({})
  try {
    const reg = f.cloud.registry
    // Two chunks' worth of devices on LevelDB (256 a chunk), many rows on PostgreSQL.
    const ids = Array.from({ length: 300 }, (_, i) => `t-${i}`)
    const devices: RolloutDevice[] = ids.map((id) => ({ id, state: 'sent', at: 0 }))
    const head = { kind: 'deploy', fn: 'greet', version: 'v', number: 1, alias: 'live', to: 'group:t', sha256: 'a'.repeat(64) } as const
    const base = await reg.createRollout({ ...head, revision: 0, state: 'running', open: false, createdAt: 0, abortAtPercent: 100, timeoutMs: 120_000, counts: countDevices(devices), devices })
    const WRITES = 60
    let done = false
    const writer = (async () => {
      try {
        for (let rev = 1; rev <= WRITES; rev++) await reg.putRollout(revision(base, rev))
      } finally { done = true }
    })()
    let reads = 0
    const readers = [0, 1, 2].map(async () => {
      while (!done) {
        const one = await reg.getRollout(base.id)
        assert.ok(one !== undefined)
        whole(one, `getRollout #${reads}`)
        for (const r of await reg.listRollouts({ limit: 5 })) whole(r, `listRollouts #${reads}`)
        reads++
      }
    })
    await Promise.all([writer, ...readers])
    assert.ok(reads >= 3, `reads ran beside the writes (${reads})`)
    const last = await reg.getRollout(base.id)
    assert.is(last?.revision, WRITES)
  } finally {
    await f.cleanup()
  }
}

/** The engine's own get while it judges reports: never a device judged before the rollout's state follows. */
async function engineReads (open: Open): Promise<void> {
  const f = await open({ trustedKeys: [keys.pubFile] })
  try {
    const ids = ['r-1', 'r-2']
    for (const id of ids) await SimDevice.connect(f, id, await f.addDevice(id, 'r'), (d) => { d.watchMs = 600_000 })
    let seen = 0
    let stop = false
    const bad = new Set<string>()
    const look = async (id: string): Promise<void> => {
      while (!stop) {
        const v: RolloutView = await f.cloud.rollouts.get(id)
        seen++
        const idle = v.counts.pending + v.counts.sent
        if (v.state === 'running' && idle === 0) bad.add(`revision ${v.revision}: running with ${JSON.stringify(v.devices.map((d) => [d.state, d.health]))}`)
        if (JSON.stringify(v.counts) !== JSON.stringify(countDevices(v.devices as RolloutDevice[]))) bad.add(`revision ${v.revision}: counts ${JSON.stringify(v.counts)} for other devices`)
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    for (let i = 0; i < 4; i++) {
      const b = await makeBundle('greet', `v${i}`)
      const started = await f.api<RolloutView>('POST', '/v1/rollouts', { sha256: await upload(f, b, keys.key), to: 'group:r' })
      assert.is(started.status, 201, JSON.stringify(started.body))
      stop = false
      const reader = look(started.body.id)
      await untilRollout(f, started.body.id, (x) => x.state === 'done' && x.devices.every((d) => d.health === 'watching'))
      stop = true
      await reader
    }
    assert.ok(seen > 0)
    assert.equal([...bad], [])
  } finally {
    await f.cleanup()
  }
}

const REGISTRY = 'a rollout read beside its writes is one stored revision: head and every device of the same write (getRollout, listRollouts)'
const ENGINE = 'the engine\'s get never shows a rollout halfway through a change: devices applied while it still says running'

const level: Test = suite('rollout reads on LevelDB')
level(REGISTRY, async () => { await registryReads(async (o) => await startCloud(o)) })
level(ENGINE, async () => { await engineReads(async (o) => await startCloud(o)) })
level.run()

const pg = pgSuite('rollout reads on PostgreSQL')
pg.realTest(REGISTRY, async () => {
  const url = await pg.server.createDatabase()
  await registryReads(async (o) => await startCloud({ ...o, db: { url, retentionDays: 0 } }))
})
pg.realTest(ENGINE, async () => {
  const url = await pg.server.createDatabase()
  await engineReads(async (o) => await startCloud({ ...o, db: { url, retentionDays: 0 } }))
})
pg.test.run()

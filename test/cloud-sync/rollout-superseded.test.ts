// A rollout superseded while its devices are in their health windows [W5], on a real cloud with
// simulated devices over each registry backend (LevelDB, then a real PostgreSQL): the older
// rollout ends `superseded` and each of its devices that was still `watching` ends `applied`
// with health `superseded` (final, with the newer rollout named), also one the newer rollout
// does not target; the operator API, the dashboard's fleet view and `lambkin rollout status`
// (the CLI as a child process) all say so. A later report of that device still reaches the old
// rollout for what only it can say (a rollback of that deployment), but never turns it back into
// a health verdict.
import { suite } from 'uvu'
import type { Test } from 'uvu'
import * as assert from 'uvu/assert'
import type { FleetView } from '../../cloud-sync/api/dashboard-types.js'
import type { RolloutView } from '../../cloud-sync/index.js'
import { startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import { SimDevice, makeBundle, makeKeys, untilRollout, upload } from '../helpers/deploy.js'
import { pgSuite } from '../helpers/pg-suite.js'
import { runLambkin } from '../e2e/fixtures/lambkin-process.js'
import type { CloudOptions } from '../../cloud-sync/index.js'
import { followClosed } from '../../cloud-sync/rollouts/follow.js'

const keys = makeKeys()

const start = async (f: CloudFixture, body: Record<string, unknown>): Promise<RolloutView> => {
  const r = await f.api<RolloutView>('POST', '/v1/rollouts', body)
  if (r.status !== 201) throw new Error(`rollout: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}
const device = (r: RolloutView, id: string): RolloutView['devices'][number] => r.devices.find((d) => d.id === id) as RolloutView['devices'][number]

async function superseded (open: (o: Partial<CloudOptions>) => Promise<CloudFixture>): Promise<void> {
  const f = await open({ trustedKeys: [keys.pubFile] })
  try {
    const devs = new Map<string, SimDevice>()
    for (const id of ['g-1', 'g-2']) devs.set(id, await SimDevice.connect(f, id, await f.addDevice(id, 'g'), (d) => { d.watchMs = 600_000 }))
    const v1 = await makeBundle('greet', 'one')
    const v2 = await makeBundle('greet', 'two')
    const old = await start(f, { sha256: await upload(f, v1, keys.key), to: 'group:g' })
    // Done: nobody is waiting for, and both are in their health windows.
    await untilRollout(f, old.id, (x) => x.state === 'done' && x.devices.every((d) => d.health === 'watching'))

    // A new version for g-1 only, while both are still in their windows.
    const neu = await start(f, { sha256: await upload(f, v2, keys.key), to: 'g-1' })
    const o = (await f.api<RolloutView>('GET', `/v1/rollouts/${old.id}`)).body
    assert.equal([o.state, o.reason], ['superseded', `superseded by rollout ${neu.id} before its health windows ended`])
    for (const id of ['g-1', 'g-2']) {
      const d = device(o, id)
      assert.equal([d.state, d.health, d.watchLeftMs, d.version], ['applied', 'superseded', undefined, v1.version], id)
      assert.match(d.message ?? '', new RegExp(`superseded by rollout ${neu.id} while its health window was open`))
    }
    assert.is(o.counts.applied, 2, 'they did apply: the counts keep them')
    // The newer rollout judges g-1 from here.
    await untilRollout(f, neu.id, (x) => device(x, 'g-1').health === 'watching')
    await devs.get('g-1')?.passWindows()
    await untilRollout(f, neu.id, (x) => device(x, 'g-1').health === 'passed')

    // The dashboard's fleet view lists it superseded.
    const fleet = (await f.api<FleetView>('GET', '/v1/fleet')).body
    assert.is(fleet.rollouts.find((l) => l.id === old.id)?.state, 'superseded')

    // `lambkin rollout status` prints each device's final word.
    const env = { LAMBKIN_API: f.cloud.api.url, LAMBKIN_TOKEN: f.token }
    const cli = await runLambkin(['rollout', 'status', old.id], { env })
    assert.is(cli.code, 0, cli.stderr)
    assert.match(cli.stdout, new RegExp(`^rollout ${old.id}: deploy of greet version 1 \\(${v1.version}\\) to group:g: superseded \\(superseded by rollout ${neu.id} before its health windows ended\\); 2 superseded in health window$`, 'm'))
    assert.match(cli.stdout, new RegExp(`^ {2}g-2 {2}superseded {3}version ${v1.version}, superseded by rollout ${neu.id} while its health window was open`, 'm'))
    assert.not.match(cli.stdout, /watching|health window: \d+ s left/)
    const json = JSON.parse((await runLambkin(['rollout', 'status', old.id, '--json'], { env })).stdout) as RolloutView
    assert.equal(json.devices.map((d) => d.health), ['superseded', 'superseded'])

    // g-2 (not in the newer rollout) reports its window over after a transient failure at the
    // old deployment: that report reaches the old rollout (it mentions the deployment), and no
    // health verdict overwrites superseded. Its health gate rolling that deployment back later
    // still reaches it.
    const g2 = devs.get('g-2') as SimDevice
    const at = Date.now()
    const deploymentId = device(o, 'g-2').deploymentId as number
    const failure = { deploymentId, name: 'greet', version: v1.version, code: 'LAMBKIN_STORE_FULL', message: 'disk full', at, transient: true }
    const passedAfterFailure = { deploymentId, applying: false, functions: [{ name: 'greet', version: v1.version, sha256: v1.sha256 }], failures: [failure], rollbacks: [], time: at }
    assert.equal(await followClosed(f.cloud.registry, () => false, 'g-2', passedAfterFailure, at), [])
    const kept = (await f.api<RolloutView>('GET', `/v1/rollouts/${old.id}`)).body
    assert.equal([device(kept, 'g-2').health, kept.revision], ['superseded', o.revision])
    g2.rollbacks.push({ deploymentId, name: 'greet', from: v1.version, code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: 'errors', at })
    g2.running.delete('greet')
    await g2.report()
    const after = await untilRollout(f, old.id, (x) => device(x, 'g-2').state === 'rolled-back')
    assert.equal([device(after, 'g-2').code, device(after, 'g-1').health], ['LAMBKIN_HEALTH_CHECK_FAILED', 'superseded'])
  } finally {
    await f.cleanup()
  }
}

const TITLE = '[W5] a rollout superseded in its health windows: its watching devices end superseded, in the API, the fleet view and lambkin rollout status'

const level: Test = suite('superseded rollouts on LevelDB')
level(TITLE, async () => { await superseded(async (o) => await startCloud(o)) })
level.run()

const pg = pgSuite('superseded rollouts on PostgreSQL')
pg.realTest(TITLE, async () => {
  const url = await pg.server.createDatabase()
  await superseded(async (o) => await startCloud({ ...o, db: { url, retentionDays: 0 } }))
})
pg.test.run()

// The rollout view follows every report, also after "applied" [W5]: a deployed bundle damaged
// while the board is off makes the board fall back to the version before at its next start and
// report it; the cloud's view of the rollout that brought it turns from applied to failed (with
// the board's code), whether the rollout is still watched or long closed, the device row shows
// what the board runs, and its desired state no longer names the broken version. A real cloud
// and a real agent (LevelDB, QuickJS), in this process.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Agent } from '../../device/index.js'
import type { RolloutView } from '../../cloud-sync/index.js'
import { fixture } from '../helpers/agent.js'
import { startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import { makeBundle, makeKeys, until, untilRollout, upload } from '../helpers/deploy.js'

const keys = makeKeys()

async function deploy (f: CloudFixture, tag: string, windowOver: boolean): Promise<{ view: RolloutView, sha256: string, version: string }> {
  const b = await makeBundle('greet', tag)
  const r = await f.api<RolloutView>('POST', '/v1/rollouts', { sha256: await upload(f, b, keys.key), to: 'board' })
  if (r.status !== 201) throw new Error(`rollout: ${r.status} ${JSON.stringify(r.body)}`)
  const done = (x: RolloutView): boolean => x.devices[0]?.state === 'applied' && (!windowOver || x.devices[0].health === 'passed')
  return { view: await untilRollout(f, r.body.id, done, 30_000), sha256: b.sha256, version: b.version }
}

/**
 * A cloud (its rollouts watched for `watchMs` after they finish), a board on it, and two
 * versions deployed; with `healthWindowMs`, each deploy waits for the board's health window to
 * pass (a device in its window keeps a finished rollout watched).
 */
async function world (
  watchMs: number,
  healthWindowMs?: number
): Promise<{
  f: CloudFixture
  start: () => Promise<Agent>
  dataDir: string
  cleanup: () => Promise<void>
  v1: Awaited<ReturnType<typeof deploy>>
  v2: Awaited<ReturnType<typeof deploy>>
}> {
  const f = await startCloud({ trustedKeys: [keys.pubFile], rollouts: { watchMs } })
  const secret = await f.addDevice('board')
  const board = fixture({})
  mkdirSync(board.functionsDir, { recursive: true })
  const config = {
    id: 'board',
    invocation: { workers: 1 },
    trustedKeys: [keys.pubFile, path.join(f.dir, 'cloud-signing.pub')],
    cloud: { url: f.cloud.broker.url, password: secret, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 300 },
    ...(healthWindowMs === undefined ? {} : { deploy: { healthWindowMs } })
  }
  let agent: Agent | undefined = await board.start(config)
  const v1 = await deploy(f, 'one', healthWindowMs !== undefined)
  const v2 = await deploy(f, 'two', healthWindowMs !== undefined)
  await agent.close()
  agent = undefined
  return {
    f,
    dataDir: board.dataDir,
    v1,
    v2,
    start: async () => (agent = await board.start(config)),
    cleanup: async () => {
      await agent?.close()
      await f.cleanup()
      board.cleanup()
    }
  }
}

/** Damages a deployed bundle file on the board's card, as a bad sector or a half-written copy would. */
function damage (dataDir: string, sha256: string): void {
  writeFileSync(path.join(dataDir, 'bundles', `${sha256}.bundle`), 'not a bundle any more')
}

async function followsTheFallback (w: Awaited<ReturnType<typeof world>>): Promise<void> {
  const { f, v1, v2 } = w
  damage(w.dataDir, v2.sha256)
  const agent = await w.start()
  assert.equal((await agent.invoke('greet')).version, v1.version, 'the board fell back to version one')
  const view = await untilRollout(f, v2.view.id, (x) => x.devices[0]?.state !== 'applied', 30_000)
  assert.equal([view.devices[0].state, view.devices[0].code], ['failed', 'LAMBKIN_BUNDLE_INVALID'])
  assert.match(view.devices[0].message ?? '', /cannot be loaded at start/)
  assert.equal([view.counts.applied, view.counts.failed], [0, 1])
  assert.is((await f.api<RolloutView>('GET', `/v1/rollouts/${v1.view.id}`)).body.devices[0].state, 'applied', 'the rollout of version one stays applied')
  const row = (await f.api<{ functions: Array<{ name: string, version: string }> }>('GET', '/v1/devices/board')).body
  assert.equal(row.functions.map((x) => [x.name, x.version]), [['greet', v1.version]], 'the device row shows what the board runs')
  await until(async () => (await f.cloud.registry.getDesired('board'))?.functions.greet?.current?.live.version === v1.version, 15_000)
}

test('[W5] a bundle damaged while the board is off: the board falls back, and the rollout still watched turns failed', async () => {
  const w = await world(600_000)
  try {
    assert.ok((await w.f.cloud.registry.openRollouts()).some((r) => r.id === w.v2.view.id), 'still watched')
    await followsTheFallback(w)
  } finally {
    await w.cleanup()
  }
})

test('[W5] the same after the rollout was closed: the report is followed into its stored view', async () => {
  const w = await world(1, 300)
  try {
    await until(async () => !(await w.f.cloud.registry.openRollouts()).some((r) => r.id === w.v2.view.id), 15_000)
    await followsTheFallback(w)
  } finally {
    await w.cleanup()
  }
})

test.run()

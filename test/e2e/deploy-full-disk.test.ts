// A deployment that meets a full card [W5]: two real boards whose data folders are small tmpfs
// partitions, filled up before a new version arrives. Each reports LAMBKIN_NO_SPACE marked
// transient (the rollout view says so), keeps running what it ran, and holds nothing against
// the version: once space is freed, one board applies the same version by itself on its retry
// timer, and the other (whose retry is an hour away) applies it at once when the operator
// deploys the same bytes again. Real `lambkin cloud`, real agents, real LevelDB on tmpfs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deployWorld, jsonLines, until } from './fixtures/deploy-world.js'
import type { DeployWorld, WorldAgent } from './fixtures/deploy-world.js'
import { mountSmallDisk, smallDiskUnavailable } from './fixtures/full-disk.js'
import type { SmallDisk } from './fixtures/full-disk.js'
import type { RolloutView } from '../../cli/rollout-view.js'

const why = smallDiskUnavailable()
let w: DeployWorld | undefined
const disks: SmallDisk[] = []
const boards: Record<string, WorldAgent> = {}

/** A function version whose bundle is about 300 KiB (a long comment), more than the room left on the full card. */
function bigVersion (v: number): string {
  return w?.fn('greeter', `// ${'padding '.repeat(38_000)}\nexport default () => ({ v: ${v} })\n`) as string
}

async function deploy (dir: string, to: string): Promise<{ code: number | null, rollout: string, stderr: string }> {
  const r = await (w as DeployWorld).lambkin(['deploy', dir, '--to', to, '--timeout', '30', '--json'])
  return { code: r.code, rollout: String(jsonLines(r.stdout).at(-1)?.rollout), stderr: r.stderr }
}

async function runs (id: string): Promise<unknown> {
  const r = await (w as DeployWorld).lambkin(['invoke', '--device', id, 'greeter', '--json'])
  return (JSON.parse(r.stdout) as { result?: { v?: number } }).result?.v
}

const state = (v: RolloutView, id: string): RolloutView['devices'][number] | undefined => v.devices.find((d) => d.id === id)

test.after(async () => {
  for (const b of Object.values(boards)) await b.stop().catch(() => {})
  for (const d of disks) d.unmount()
  await w?.cleanup()
})

test('[W5] a full card: LAMBKIN_NO_SPACE reported transient, nothing held against the version; after space is freed the same version applies, by retry and by a redeploy of the same bytes', async () => {
  if (why !== undefined) { console.log(`  skipped: ${why}`); return }
  const world = w = await deployWorld()
  for (const [id, retryMs] of [['retrying', 500], ['redeployed', 3_600_000]] as const) {
    const secret = await world.addDevice(id, 'full')
    boards[id] = world.agent(id, secret, { deploy: { healthWindowMs: 0, fetchTimeoutMs: 5000, retryMs } })
    disks.push(mountSmallDisk(boards[id].dataDir, 4096))
    await boards[id].start()
  }
  const first = await deploy(world.fn('greeter', 'export default () => ({ v: 1 })'), 'group:full')
  assert.is(first.code, 0, first.stderr)
  // The cards fill up (logs, another program): about 128 KiB stay free, less than the new bundle.
  for (const d of disks) d.fill(128 * 1024)
  const v2 = bigVersion(2)
  const full = await deploy(v2, 'group:full')
  assert.is(full.code, 1, 'the deploy says the boards could not take it')
  const view = await world.rollout(full.rollout)
  for (const id of ['retrying', 'redeployed']) {
    assert.equal([state(view, id)?.state, state(view, id)?.code, (state(view, id) as { transient?: boolean } | undefined)?.transient], ['failed', 'LAMBKIN_NO_SPACE', true], id)
    assert.is(await runs(id), 1, `${id} keeps running version 1`)
    assert.equal(boards[id].agent?.deployer?.active.rejected.greeter ?? [], [], `${id} holds nothing against version 2`)
  }
  // Space comes back.
  for (const d of disks) d.release()
  // The first board tries again on its own (deploy.retryMs, doubling): the same rollout's view follows it.
  await until('the retrying board applies version 2 by itself', async () => state(await world.rollout(full.rollout), 'retrying')?.state === 'applied', 60_000)
  assert.is(await runs('retrying'), 2)
  assert.is(await runs('redeployed'), 1, 'the other board waits for its retry, an hour away')
  // The operator deploys the same bytes again: applied at once.
  const again = await deploy(v2, 'redeployed')
  assert.is(again.code, 0, again.stderr)
  assert.is(await runs('redeployed'), 2)
  assert.ok(disks.every((d) => d.free() > 1024 * 1024), 'no partial bundle file left behind')
})

test.run()

// Any rollout can be stopped: `lambkin rollout cancel` (devices not yet reached keep their
// version, moved ones stay moved until `lambkin rollback`), and a new deploy of the same
// function supersedes one still running. The deploy command that was following says so.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deployWorld, jsonLines, until } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'
import { startLambkin } from './fixtures/lambkin-process.js'
import type { RolloutView } from '../../cli/rollout-view.js'

const IDS = ['c-0', 'c-1', 'c-2', 'c-3', 'c-4']
let w: DeployWorld

async function versions (): Promise<Record<string, number | undefined>> {
  const out: Record<string, number | undefined> = {}
  for (const id of IDS) {
    const i = await w.lambkin(['invoke', '--device', id, 'counter', '--json'])
    out[id] = (JSON.parse(i.stdout) as { result?: { v: number } }).result?.v
  }
  return out
}

/** Starts a slow (--rate 6: one device every 10 s) deploy of version `v` and waits for its first applied device. */
async function slowDeploy (v: number): Promise<{ p: ReturnType<typeof startLambkin>, rollout: string, first: string }> {
  const p = startLambkin(['deploy', w.fn('counter', `export default () => ({ v: ${v} })`), '--to', 'group:canaries', '--rate', '6', '--json'], { env: w.env })
  const m = await p.waitFor('stdout', /"event":"device","rollout":"([^"]+)","device":"([^"]+)","state":"applied"/, 60_000)
  return { p, rollout: m[1], first: m[2] }
}

test.before(async () => {
  w = await deployWorld()
  for (const id of IDS) await w.agent(id, await w.addDevice(id, 'canaries')).start()
  const r = await w.lambkin(['deploy', w.fn('counter', 'export default () => ({ v: 1 })'), '--to', 'group:canaries'])
  assert.is(r.code, 0, r.stderr)
})

test.after(async () => { await w?.cleanup() })

test('a cancelled rollout stops: unreached devices keep their version, the following deploy exits 1 and says how it ended', async () => {
  const { p, rollout, first } = await slowDeploy(2)
  const c = await w.lambkin(['rollout', 'cancel', rollout])
  assert.is(c.code, 0, c.stderr)
  assert.match(c.stdout, new RegExp(`^rollout ${rollout} cancelled: .*devices not yet reached keep their version`))
  const exit = await p.exited
  assert.is(exit.code, 1, p.stderr())
  const end = jsonLines(p.stdout()).pop() as Record<string, unknown>
  assert.is(end.state, 'cancelled')
  assert.is(end.code, 'LAMBKIN_ROLLOUT_ABORTED')
  const view: RolloutView = await w.rollout(rollout)
  assert.is(view.state, 'cancelled')
  const v = await versions()
  assert.is(v[first], 2, 'the device already moved stays moved')
  assert.ok(IDS.filter((id) => v[id] === 1).length >= 3, JSON.stringify(v))
  const again = await w.lambkin(['rollout', 'cancel', 'no-such-rollout'])
  assert.is(again.code, 1)
  assert.match(again.stderr, /^LAMBKIN_ROLLOUT_NOT_FOUND: /)
})

test('lambkin rollback takes the moved device back; devices with nothing earlier are skipped', async () => {
  const r = await w.lambkin(['rollback', 'counter', '--to', 'group:canaries', '--json'])
  assert.is(r.code, 0, r.stderr + r.stdout)
  const events = jsonLines(r.stdout)
  assert.is(events[0].event, 'rollout')
  assert.is(events[0].kind, 'rollback')
  const end = events[events.length - 1]
  assert.is(end.ok, true)
  await until('every device on version 1', async () => Object.values(await versions()).every((x) => x === 1))
})

test('a new deploy of the same function supersedes the one still running', async () => {
  const { p, rollout } = await slowDeploy(3)
  const r = await w.lambkin(['deploy', w.fn('counter', 'export default () => ({ v: 4 })'), '--to', 'group:canaries', '--json'])
  assert.is(r.code, 0, r.stderr)
  assert.is((await p.exited).code, 1)
  assert.is((jsonLines(p.stdout()).pop() as Record<string, unknown>).state, 'superseded')
  assert.is((await w.rollout(rollout)).state, 'superseded')
  await until('every device on version 4', async () => Object.values(await versions()).every((x) => x === 4))
  const list = JSON.parse((await w.lambkin(['rollouts', '--json'])).stdout) as { rollouts: RolloutView[] }
  assert.equal(list.rollouts.slice(0, 3).map((x) => x.state), ['done', 'superseded', 'done'])
})

test('Ctrl-C stops following at once, not the rollout, and says how to cancel it', async () => {
  const p = startLambkin(['deploy', w.fn('counter', 'export default () => ({ v: 5 })'), '--to', 'group:canaries', '--rate', '6'], { env: w.env })
  await p.waitFor('stdout', /^ {2}c-\d {2}applied/m, 60_000)
  p.child.kill('SIGINT')
  // One signal only: a second one quits without the message (signals.ts).
  const exit = await Promise.race([p.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000).unref())])
  if (exit === null) p.child.kill('SIGKILL')
  assert.ok(exit !== null, 'it exits at once, without waiting for the long-poll in flight')
  assert.is(exit.code, 130, p.stderr())
  const m = /stopped following rollout (\S+); it goes on in the cloud\. See it with `lambkin rollouts`, stop it with `lambkin rollout cancel (\S+)`/.exec(p.stderr())
  assert.ok(m !== null && m[1] === m[2], p.stderr())
  const id = (m as RegExpExecArray)[1]
  assert.is((await w.rollout(id)).state, 'running', 'the rollout goes on')
  assert.is((await w.lambkin(['rollout', 'cancel', id])).code, 0)
})

test.run()

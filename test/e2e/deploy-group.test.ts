// `lambkin deploy` to a group of 20 real agents through a real `lambkin cloud`: live progress
// to the end (each device's answer once, as it comes, counts that only grow), exit 0, the
// rollout listed, and the new version answering a remote invoke through the cloud [W5][W6][W7].
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deployWorld, jsonLines, until } from './fixtures/deploy-world.js'
import type { DeployWorld, WorldAgent } from './fixtures/deploy-world.js'
import type { RolloutView } from '../../cli/rollout-view.js'

const N = 20
let w: DeployWorld
const agents: WorldAgent[] = []

test.before(async () => {
  w = await deployWorld()
  for (let i = 0; i < N; i++) {
    const id = `gh-${String(i).padStart(2, '0')}`
    agents.push(w.agent(id, await w.addDevice(id, 'greenhouse')))
  }
  await Promise.all(agents.map(async (a) => await a.start()))
})

test.after(async () => { await w?.cleanup() })

test('[W5][W6] a deploy to a group of 20 shows every device applying, live, and exits 0', async () => {
  const dir = w.fn('thermo', 'export default (e) => ({ v: 1, got: e.n ?? null })')
  const r = await w.lambkin(['deploy', dir, '--to', 'group:greenhouse', '--json'])
  assert.is(r.code, 0, r.stderr + r.stdout)
  const events = jsonLines(r.stdout)
  assert.is(events[0].event, 'bundle')
  assert.is(events[0].name, 'thermo')
  assert.is(events[0].number, 1)
  assert.is(events[0].keyId, w.key.keyId)
  assert.is(events[1].event, 'rollout')
  assert.is((events[1].counts as RolloutView['counts']).total, N)
  const devices = events.filter((e) => e.event === 'device')
  // Each device answers twice: applied in its health window, then healthy once the window passed.
  assert.equal(devices.filter((e) => e.health === 'watching').map((e) => e.device).sort(), agents.map((a) => a.id), 'each device applied once')
  assert.equal(devices.filter((e) => e.health === 'passed').map((e) => e.device).sort(), agents.map((a) => a.id), 'each device passed once')
  assert.is(devices.length, 2 * N)
  assert.ok(devices.every((e) => e.state === 'applied' && e.version === events[0].version), JSON.stringify(devices[0]))
  // Live: progress came in more than one step, and the applied count only grew.
  const applied = events.filter((e) => e.event === 'progress').map((e) => (e.counts as RolloutView['counts']).applied)
  assert.ok(applied.length >= 2, `progress events: ${applied.join(',')}`)
  assert.ok(applied.every((n, i) => i === 0 || n >= applied[i - 1]), applied.join(','))
  const end = events[events.length - 1]
  assert.is(end.event, 'end')
  assert.is(end.ok, true)
  assert.is(end.state, 'done')
  assert.is((end.counts as RolloutView['counts']).applied, N)

  const list = await w.lambkin(['rollouts', '--json'])
  const { rollouts } = JSON.parse(list.stdout) as { rollouts: RolloutView[] }
  assert.is(rollouts[0].id, end.rollout)
  assert.is(rollouts[0].state, 'done')
  const table = await w.lambkin(['rollouts'])
  assert.match(table.stdout, new RegExp(`${String(end.rollout)}\\s+deploy\\s+thermo\\s+1 \\(${String(events[0].version)}\\)\\s+group:greenhouse\\s+live\\s+done\\s+20/20`))
})

test('[W7] remote invoke through the cloud runs the deployed version on the board', async () => {
  const r = await w.lambkin(['invoke', '--device', 'gh-07', 'thermo', '--event', '{"n":42}', '--json'])
  assert.is(r.code, 0, r.stderr)
  const a = JSON.parse(r.stdout) as { ok: boolean, version: string, result: unknown, fn: string }
  assert.is(a.ok, true)
  assert.is(a.fn, 'thermo')
  assert.equal(a.result, { v: 1, got: 42 })
  const human = await w.lambkin(['invoke', '--device', 'gh-07', 'thermo', '--event', '{"n":1}'])
  assert.is(human.code, 0, human.stderr)
  assert.equal(JSON.parse(human.stdout), { v: 1, got: 1 })
  assert.match(human.stderr, `version ${a.version}`)
  const unknown = await w.lambkin(['invoke', '--device', 'nobody', 'thermo'])
  assert.is(unknown.code, 1)
  assert.match(unknown.stderr, /^LAMBKIN_DEVICE_NOT_FOUND: /)
})

test('a second version goes out in human form: one line per device, then the summary', async () => {
  const dir = w.fn('thermo', 'export default (e) => ({ v: 2, got: e.n ?? null })')
  const r = await w.lambkin(['deploy', dir, '--to', 'group:greenhouse'])
  assert.is(r.code, 0, r.stderr + r.stdout)
  assert.match(r.stdout, /^thermo version 2 \([0-9a-f]{16}\): bundle sha256 [0-9a-f]{12}, /)
  assert.match(r.stdout, /rollout \S+: thermo version 2 \([0-9a-f]{16}\) to group:greenhouse, 20 devices, all at once, never aborts/)
  // A line per state the follower saw: a board whose 3 s health window passed between two of
  // its polls (a loaded host) shows only its healthy line. Never two of a kind, never healthy
  // before applied.
  const applied = [...r.stdout.matchAll(/^ {2}(gh-\d\d) {2}applied {6}version [0-9a-f]{16}, health window: \d+ s left$/gm)].map((m) => m[1])
  const healthy = [...r.stdout.matchAll(/^ {2}(gh-\d\d) {2}healthy {6}version [0-9a-f]{16}$/gm)].map((m) => m[1])
  assert.is(new Set(healthy).size, N, r.stdout)
  assert.is(healthy.length, N, r.stdout)
  assert.ok(applied.length >= 1 && new Set(applied).size === applied.length, r.stdout)
  for (const id of applied) assert.ok(r.stdout.indexOf(`  ${id}  applied`) < r.stdout.indexOf(`  ${id}  healthy`), `${id}: applied before healthy`)
  assert.match(r.stdout, /rollout \S+ done: 20 healthy\n$/)
  assert.not.match(r.stdout, '\x1b[', 'no terminal codes when stdout is not a terminal')
  await until('the new version to answer', async () => {
    const i = await w.lambkin(['invoke', '--device', 'gh-19', 'thermo', '--json'])
    return (JSON.parse(i.stdout) as { result: { v: number } }).result.v === 2
  })
})

test('a device that is not connected answers LAMBKIN_DEVICE_OFFLINE at once; a slow function LAMBKIN_INVOKE_TIMEOUT', async () => {
  await agents[0].stop()
  const r = await w.lambkin(['invoke', '--device', agents[0].id, 'thermo'])
  assert.is(r.code, 1)
  assert.match(r.stderr, /^LAMBKIN_DEVICE_OFFLINE: /)
  await agents[0].start()
  const dir = w.fn('slow', 'export default () => { const t = Date.now() + 3000; while (Date.now() < t) {} return 1 }', { limits: { timeoutMs: 10000, instructions: 1e12 } })
  assert.is((await w.lambkin(['deploy', dir, '--to', 'gh-05', '--json'])).code, 0)
  const slow = await w.lambkin(['invoke', '--device', 'gh-05', 'slow', '--timeout', '500'])
  assert.is(slow.code, 1)
  assert.match(slow.stderr, /^LAMBKIN_INVOKE_TIMEOUT: /)
})

test('a deploy to an unknown device or an empty group is refused before anything is uploaded; cancelling a finished rollout says it had finished', async () => {
  const dir = w.fn('never', 'export default () => 1')
  for (const to of ['ghost', 'group:nothing']) {
    const r = await w.lambkin(['deploy', dir, '--to', to])
    assert.is(r.code, 1, r.stdout)
    assert.match(r.stderr, /^LAMBKIN_DEVICE_NOT_FOUND: /)
    assert.is(r.stdout, '', 'no bundle line: nothing was uploaded')
  }
  const { rollouts } = JSON.parse((await w.lambkin(['rollouts', '--json'])).stdout) as { rollouts: RolloutView[] }
  assert.not.ok(rollouts.some((x) => x.fn === 'never'))
  const done = rollouts.find((x) => x.state === 'done') as RolloutView
  const c = await w.lambkin(['rollout', 'cancel', done.id])
  assert.is(c.code, 0, c.stderr)
  assert.match(c.stdout, `rollout ${done.id} had already finished (done)`)
})

test.run()

// A cloud on a board without an RTC: it starts at 1970 (or wherever the board's clock stood)
// and NTP steps the wall clock forward by decades a minute later. The rollout engine and the
// takeover window count "the wall clock at start plus the monotonic time since" (this round's
// clock-step fixes), so a wall clock wrong at start must not stay wrong for the process's life:
// times stored by an earlier run (a rollout's devices sent, takeovers seen) are then compared
// with 1970 and a silent device never times out, a takeover from an hour ago stays "recent".
// Real cloud (aedes, LevelDB, Fastify) on the fake clock, simulated devices over MQTT.js.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { RolloutView } from '../../cloud-sync/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import { SimDevice, makeBundle, makeKeys, until, untilRollout, upload } from '../helpers/deploy.js'

const keys = makeKeys()
/** Where a board without an RTC starts, and what NTP says a minute later. */
const UNSET = 0
const HOUR = 3_600_000

interface TakeoverView { takeovers: { count: number, recent: number }, problems: string[] }
const SHARED = /two clients share this id/
const twin = async (f: CloudFixture): Promise<TakeoverView> => (await f.api<TakeoverView>('GET', '/v1/devices/twin')).body

test('a cloud restarted at 1970 and set right by NTP: a silent device of a rollout sent before the restart still times out, and the rollout ends', async () => {
  const right = new FakeClock(Date.now(), { bootId: 'boot-1' })
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock: right })
  try {
    for (const id of ['g-1', 'g-2']) {
      await SimDevice.connect(f, id, await f.addDevice(id, 'g'), (d) => { if (d.id === 'g-2') d.behaviour = () => 'silent' })
    }
    const sha = await upload(f, await makeBundle('greet', 'one'), keys.key)
    const r = await f.api<RolloutView>('POST', '/v1/rollouts', { sha256: sha, to: 'group:g', timeoutMs: 5000 })
    assert.is(r.status, 201, JSON.stringify(r.body))
    await untilRollout(f, r.body.id, (x) => x.counts.applied === 1 && x.devices[1].state === 'sent')
    // Power cut; the board boots with its clock at 1970, the cloud starts, NTP steps it right.
    const boot = new FakeClock(UNSET, { bootId: 'boot-2' })
    await f.restart({ clock: boot })
    await boot.advance(1000)
    boot.jumpTo(right.now() + 2000)
    await boot.advance(6000)
    const v = await untilRollout(f, r.body.id, (x) => x.state === 'done', 5000).catch(async () => (await f.api<RolloutView>('GET', `/v1/rollouts/${r.body.id}`)).body)
    // The restart cut its connection, so its timeout reads 'offline' (engine.ts #step); with the
    // 1970 anchor kept it stayed 'sent' and the rollout 'running' for the process's life.
    assert.equal([v.state, v.devices[1].state], ['done', 'offline'])
  } finally {
    await f.cleanup()
  }
})

test('a cloud restarted at 1970 and set right by NTP: takeovers an hour old are not "two clients share this id"', async () => {
  const right = new FakeClock(Date.now(), { bootId: 'boot-1' })
  const f = await startCloud({ clock: right })
  try {
    const secret = await f.addDevice('twin')
    for (let i = 0; i < 4; i++) await f.connect('twin', secret, { clean: false })
    await until(async () => (await twin(f)).takeovers.count === 3, 3000)
    assert.match((await twin(f)).problems.join('\n'), SHARED)
    const boot = new FakeClock(UNSET, { bootId: 'boot-2' })
    await f.restart({ clock: boot })
    await boot.advance(1000)
    boot.jumpTo(right.now() + HOUR)
    await boot.advance(1000)
    const v = await twin(f)
    assert.equal([v.takeovers.count, v.takeovers.recent], [3, 0])
    assert.not.match(v.problems.join('\n'), SHARED)
  } finally {
    await f.cleanup()
  }
})

test.run()

// `lambkin rollback` walks back through the versions each device kept, one step per rollback
// (its help text): after v1, v2 and a v3 whose rollout was cancelled once it had reached one
// board, the first rollback takes that board to v2, the second to v1 (never forward to v3, the
// cancelled rollout's version), and a third finds nothing earlier and skips it. A real cloud
// and real agents; the CLI as a child process.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deployWorld } from './fixtures/deploy-world.js'
import { startLambkin } from './fixtures/lambkin-process.js'

test('rollback goes one step further back each time, never forward to a cancelled rollout\'s version', async () => {
  const w = await deployWorld()
  try {
    for (const id of ['a', 'b']) await w.agent(id, await w.addDevice(id, 'site')).start()
    const fn = (v: number): string => w.fn('probe', `export default () => ({ v: ${v} })`)
    const runs = async (device: string): Promise<unknown> => {
      const r = await w.lambkin(['invoke', '--device', device, 'probe', '--json'])
      return (JSON.parse(r.stdout) as { result: unknown }).result
    }
    for (const v of [1, 2]) {
      const r = await w.lambkin(['deploy', fn(v), '--to', 'group:site'])
      assert.is(r.code, 0, r.stderr)
    }
    // v3 at one device a minute: board a gets it at once, then the rollout is cancelled.
    const d3 = startLambkin(['deploy', fn(3), '--to', 'group:site', '--rate', '1', '--json'], { env: w.env })
    const got = await d3.waitFor('stdout', /"event":"device","rollout":"(r\d+)","device":"a","state":"applied"/, 60_000)
    const cancel = await w.lambkin(['rollout', 'cancel', got[1]])
    assert.is(cancel.code, 0, cancel.stderr)
    assert.is((await d3.exited).code, 1, 'the followed rollout ended cancelled')
    assert.equal(await runs('a'), { v: 3 })
    assert.equal(await runs('b'), { v: 2 })

    const first = await w.lambkin(['rollback', 'probe', '--to', 'a'])
    assert.is(first.code, 0, first.stdout + first.stderr)
    assert.equal(await runs('a'), { v: 2 })
    const second = await w.lambkin(['rollback', 'probe', '--to', 'a'])
    assert.is(second.code, 0, second.stdout + second.stderr)
    assert.equal(await runs('a'), { v: 1 }, 'one step further back, not forward to v3')
    const third = await w.lambkin(['rollback', 'probe', '--to', 'a'])
    assert.is(third.code, 0, third.stdout + third.stderr)
    assert.match(third.stdout, /a {2}skipped {6}no previous version of probe/)
    assert.equal(await runs('a'), { v: 1 })
    // The group: b walks back from v2 to v1 on its own history; a has nothing earlier.
    const group = await w.lambkin(['rollback', 'probe', '--to', 'group:site'])
    assert.is(group.code, 0, group.stdout + group.stderr)
    assert.equal([await runs('a'), await runs('b')], [{ v: 1 }, { v: 1 }])
  } finally {
    await w.cleanup()
  }
})

test.run()

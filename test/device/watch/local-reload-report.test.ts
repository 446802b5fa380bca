// A local functions folder that changes while the agent runs is reported to the cloud at once
// (up/reported, W5), so `lambkin status` and the dashboard list a new local function, and stop
// listing a removed one, without waiting for the cloud link to reconnect. A new user's trial
// found a function added by a local edit missing from `lambkin status` minutes later.
import type { EventEmitter } from 'node:events'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { ReportedFrame } from '../../../src/wire/index.js'
import { fixture } from '../../helpers/agent.js'

const CODE = 'export default () => 1\n'
const MANIFEST = { triggers: [{ mqtt: 'probe/+', qos: 1 }] }

/** Resolves with the first reported frame `ok` accepts; rejects after `timeoutMs`. */
function reported (emitter: EventEmitter, ok: (r: ReportedFrame) => boolean, timeoutMs = 15_000): Promise<ReportedFrame> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { emitter.off('reported', on); reject(new Error('no matching up/reported')) }, timeoutMs)
    const on = (r: ReportedFrame): void => {
      if (!ok(r)) return
      clearTimeout(timer)
      emitter.off('reported', on)
      resolve(r)
    }
    emitter.on('reported', on)
  })
}

const names = (r: ReportedFrame): string[] => r.functions.map((f) => f.name).sort()

test('a local function added, then removed, while the agent runs: each change is reported at once', async () => {
  const f = fixture({ one: { manifest: MANIFEST, code: CODE } })
  try {
    const agent = await f.start({ brokerPort: 0, watch: { debounceMs: 20 } })
    try {
      const deployer = agent.deployer
      assert.ok(deployer !== undefined)
      const added = reported(deployer, (r) => names(r).includes('two'))
      mkdirSync(path.join(f.functionsDir, 'two'))
      writeFileSync(path.join(f.functionsDir, 'two', 'index.js'), CODE)
      writeFileSync(path.join(f.functionsDir, 'two', 'function.json'), JSON.stringify({ name: 'two', ...MANIFEST }))
      assert.equal(names(await added), ['one', 'two'])

      const removed = reported(deployer, (r) => !names(r).includes('two'))
      rmSync(path.join(f.functionsDir, 'two'), { recursive: true })
      assert.equal(names(await removed), ['one'])
    } finally {
      await agent.close()
    }
  } finally {
    f.cleanup()
  }
})

test.run()

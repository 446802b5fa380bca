// Events no sandbox can be given end as LAMBKIN_INPUT_LIMIT before any sandbox runs, whatever
// built them (the CLI's --event, a trigger): never a crash of the pool or the caller.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SandboxPool } from '../../../src/sandbox/index.js'
import { makeSpec } from '../../helpers/spec.js'

test('an event nested past what JSON.stringify can walk, a circular one and a BigInt are LAMBKIN_INPUT_LIMIT; the next call runs', async () => {
  const pool = await SandboxPool.create({ workers: 1 })
  try {
    const k = await pool.load(makeSpec('export default (e) => typeof e'))
    let deep: unknown = 1
    for (let i = 0; i < 200_000; i++) deep = [deep]
    const circular: Record<string, unknown> = {}
    circular.self = circular
    for (const event of [deep, circular, { n: 1n }]) {
      const o = await pool.invoke(k, event as Record<string, unknown>)
      assert.not.ok(o.ok)
      if (!o.ok) assert.is(o.error.code, 'LAMBKIN_INPUT_LIMIT')
    }
    const fine = await pool.invoke(k, { a: 1 })
    assert.ok(fine.ok)
  } finally {
    await pool.close()
  }
})

test.run()

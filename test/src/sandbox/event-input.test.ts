// Events no sandbox can be given end as LAMBKIN_INPUT_LIMIT before any sandbox runs, whatever
// built them (the CLI's --event, a trigger): never a crash of the pool or the caller. And what
// a sandbox is given arrives as it was sent.
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

test('text crosses into the sandbox and back unchanged, short or long, ASCII or not (event, ids, state, result)', async () => {
  const pool = await SandboxPool.create({ workers: 1 })
  try {
    const k = await pool.load(makeSpec('export default (e, ctx) => ({ e, id: ctx.invocationId, trace: ctx.traceId, s: ctx.state.s })'))
    // Both sides of the 32-character line where the host switches how it writes a string, in
    // one to four UTF-8 bytes a character, and a lone surrogate (JSON.stringify escapes it).
    const texts = ['a', 'é', '中', '😀', 'x'.repeat(31), 'x'.repeat(32), 'é'.repeat(40), '中文'.repeat(20), '😀'.repeat(17), `${'y'.repeat(40)}\ud800`, 'q\u0000'.repeat(20)]
    for (const t of texts) {
      // Ids travel as C strings, not JSON: one with a NUL or a lone surrogate is not sent whole.
      const idText = t.includes('\ud800') || t.includes('\u0000') ? 'plain' : t
      const id = `id-${idText}-${'0'.repeat(30)}`
      const o = await pool.invoke(k, { t, n: [t, t] }, { invocationId: id, traceId: `trace ${idText}`, state: { s: t } })
      assert.ok(o.ok, JSON.stringify(o))
      if (o.ok) assert.equal(o.result, { e: { t, n: [t, t] }, id, trace: `trace ${idText}`, s: t })
    }
  } finally {
    await pool.close()
  }
})

test.run()

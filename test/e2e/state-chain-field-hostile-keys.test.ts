// ctx.state keys named like Object.prototype's members (`__proto__`, `constructor`, `toString`,
// `hasOwnProperty`, `prototype`, `valueOf`) through failed state commits and a restart (docs/durability.md,
// "A commit that fails is not acknowledged"; DESIGN: hostile names): each message adds one to
// every key as an own property; the first run of every fourth message returns a result larger
// than the outbox quota, so its commit is refused and the function's state is read back from the
// store. Every key must count each message once, in commit order, through those reloads and
// through a restart of the agent that reads the state from LevelDB. Real `lambkin device`, aedes,
// QuickJS, LevelDB.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fieldRig, onceEach, resultsOf, until } from './fixtures/state-chain-field.js'

const N = 40
const QUOTA = 256 * 1024
const KEYS = ['constructor', 'toString', 'hasOwnProperty', 'prototype', 'valueOf', 'plain']

const code = (keys: string[]): string => `const seen = new Set()
const KEYS = ${JSON.stringify(keys)}
export default (e, ctx) => {
  const id = e.payload.id
  const s = ctx.state
  const counts = []
  for (const k of KEYS) {
    const before = Object.prototype.hasOwnProperty.call(s, k) ? s[k] : 0
    Object.defineProperty(s, k, { value: before + 1, enumerable: true, writable: true, configurable: true })
    counts.push(k + '=' + s[k])
  }
  const big = id % 4 === 1 && !seen.has(id)
  seen.add(id)
  return { id, counts: counts.join(' '), proto: Object.getPrototypeOf(s) === Object.prototype, pad: big ? 'h'.repeat(${QUOTA + 1024}) : '' }
}`

async function hostileKeys (keys: string[]): Promise<void> {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-state-field-keys-'))
  const rig = await fieldRig(root, path.join(root, 'data'), 'state-field-keys', {
    keys: { manifest: { triggers: [{ mqtt: 'field/+', qos: 1 }] }, code: code(keys) }
  }, { outbox: { quotaBytes: QUOTA } })
  try {
    await rig.start()
    const ids = Array.from({ length: N }, (_, i) => i)
    const half = N / 2
    await rig.send(ids.slice(0, half))
    await until(() => `the first ${half} acknowledged (have ${rig.acked.size})`, () => rig.acked.size === half, 120_000)
    assert.match(rig.agent().stderr(), /LAMBKIN_STORE_FULL/, 'the oversized results were refused')
    // A restart reads the state from LevelDB.
    assert.equal(await rig.agent().stop('SIGTERM'), { code: 0, signal: null }, rig.agent().stderr().slice(-3000))
    await rig.start()
    await rig.send(ids.slice(half))
    await until(() => `all ${N} acknowledged (have ${rig.acked.size})`, () => rig.acked.size === N, 120_000)
    assert.equal(await rig.agent().stop('SIGTERM'), { code: 0, signal: null }, rig.agent().stderr().slice(-3000))
    const dump = await rig.outbox()
    const results = resultsOf(dump, 'keys')
    assert.equal(onceEach(results, ids), { twice: [], missing: [] }, 'one result per message')
    const expected = ids.map((i) => keys.map((k) => `${k}=${i + 1}`).join(' '))
    assert.equal(results.map((r) => r.counts), expected, 'every key counts 1..N in commit order')
    assert.equal(results.filter((r) => r.proto !== true).map((r) => r.id), [], 'ctx.state keeps Object.prototype as its prototype')
  } finally {
    await rig.close()
    rmSync(root, { recursive: true, force: true })
  }
}

test('[state chain + hostile keys] constructor, toString, hasOwnProperty... in ctx.state count each message once through refused commits and a restart', async () => {
  await hostileKeys(KEYS)
})

// `__proto__` as a state key: it must survive every reload of the state from the store (after
// each refused commit, in state-chain.ts, and after the restart); the store's codec keeps it.
test('[state chain + hostile keys] __proto__ in ctx.state counts each message once through refused commits and a restart', async () => {
  await hostileKeys(['__proto__', ...KEYS])
})

test.run()

// The config feeds other components: its keys, defaults and clamps must agree with theirs,
// so a loaded config can be handed to each of them as is.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DEVICE_DEFAULTS, loadDeviceConfig } from '../../../device/config/index.js'
import { RECORD_KINDS, resolveStoreOptions, STORE_DEFAULTS } from '../../../device/store/index.js'
import { LIMIT_CAPS, LIMIT_MINIMUMS, resolveCaps } from '../../../src/function/index.js'
import { MAX_SAFE_STACK_KIB, resolvePoolOptions } from '../../../src/sandbox/index.js'

test('outbox.ttlMs takes exactly the outbox record kinds, and the defaults match the store', async () => {
  const ttlMs = Object.fromEntries(RECORD_KINDS.map((k) => [k, 0]))
  const cfg = await loadDeviceConfig({ env: {}, flags: {}, cwd: '/tmp', file: undefined })
  assert.is(cfg.outbox.quotaBytes, STORE_DEFAULTS.quotaBytes)
  assert.is(cfg.outbox.syncIntervalMs, STORE_DEFAULTS.syncIntervalMs)
  const store = resolveStoreOptions({ dir: cfg.dataDir, ...cfg.outbox, ttlMs: { ...cfg.outbox.ttlMs, ...ttlMs } })
  assert.equal(Object.keys(store.ttlMs).sort(), [...RECORD_KINDS].sort())
})

test('caps default to the loader\'s LIMIT_CAPS, and the lowest caps the config allows pass resolveCaps', async () => {
  assert.equal({ ...DEVICE_DEFAULTS.caps }, { ...LIMIT_CAPS })
  assert.equal(resolveCaps({ ...DEVICE_DEFAULTS.caps }), { ...LIMIT_CAPS })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-'))
  try {
    const file = path.join(dir, 'device.json')
    fs.writeFileSync(file, JSON.stringify({ caps: LIMIT_MINIMUMS }))
    const low = await loadDeviceConfig({ file, env: {}, cwd: dir })
    assert.equal(resolveCaps({ ...low.caps }), { ...LIMIT_MINIMUMS })
    fs.writeFileSync(file, JSON.stringify({ caps: { ...LIMIT_MINIMUMS, stackKiB: LIMIT_MINIMUMS.stackKiB - 1 } }))
    await loadDeviceConfig({ file, env: {}, cwd: dir }).then(() => assert.unreachable('a cap below the floor was accepted'), (err: Error) => assert.match(err.message, 'caps.stackKiB'))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  assert.is(MAX_SAFE_STACK_KIB, 1024, 'the config clamps caps.stackKiB at 1024')
})

test('invocation settings are accepted by the sandbox pool', () => {
  const { workers, queueDepth } = DEVICE_DEFAULTS.invocation
  const pool = resolvePoolOptions({ workers, queueDepth })
  assert.is(pool.workers, workers)
  assert.is(pool.queueDepth, queueDepth)
})

test.run()

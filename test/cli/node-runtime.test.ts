// cli/node-runtime.ts: which flags and allocator settings `lambkin` re-runs Node with.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { planRuntime, RuntimeSettingError, SMALL_RAM_ENV, SMALL_RAM_FLAGS, TRAP_HANDLER_FLAG } from '../../cli/node-runtime.js'

const plan = (arch: string, env: Record<string, string> = {}, execArgv: string[] = []): ReturnType<typeof planRuntime> => planRuntime({ arch, env, execArgv })

test('on a board (arm64, arm) the small-RAM profile and the trap-handler flag are the default', () => {
  for (const arch of ['arm64', 'arm']) {
    const p = plan(arch)
    assert.equal(p.flags, [TRAP_HANDLER_FLAG, ...SMALL_RAM_FLAGS])
    assert.equal(p.env, { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '32768' })
  }
  assert.ok(SMALL_RAM_FLAGS.includes('--max-semi-space-size=1'))
})

test('on x64 nothing is added unless asked: then no re-run', () => {
  assert.equal(plan('x64'), { flags: [], env: {} })
  assert.equal(plan('x64', { LAMBKIN_MEMORY: '' }), { flags: [], env: {} })
  assert.equal(plan('x64', { LAMBKIN_MEMORY: 'small' }), { flags: [...SMALL_RAM_FLAGS], env: { ...SMALL_RAM_ENV } })
  assert.equal(plan('x64', { LAMBKIN_WASM_TRAP_HANDLER: 'off' }), { flags: [TRAP_HANDLER_FLAG], env: {} })
})

test('LAMBKIN_MEMORY=node keeps Node\'s defaults on a board; the trap-handler flag stays', () => {
  assert.equal(plan('arm64', { LAMBKIN_MEMORY: 'node' }), { flags: [TRAP_HANDLER_FLAG], env: {} })
  assert.equal(plan('arm64', { LAMBKIN_MEMORY: 'node', LAMBKIN_WASM_TRAP_HANDLER: 'on' }), { flags: [], env: {} })
})

test('flags the user gave Node and a MALLOC_ARENA_MAX already set win over the profile', () => {
  const p = plan('arm64', { MALLOC_ARENA_MAX: '4', NODE_OPTIONS: '--v8-pool-size=2' }, ['--max-semi-space-size=8', '--disable-wasm-trap-handler'])
  assert.equal(p.flags, SMALL_RAM_FLAGS.filter((f) => !f.startsWith('--max-semi-space-size') && !f.startsWith('--v8-pool-size')))
  assert.equal(p.env, { MALLOC_MMAP_THRESHOLD_: '32768' })
  assert.equal(plan('arm64', { MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '65536' }).env, {})
  // The re-run process itself sees everything in place, so it never re-runs again.
  const first = plan('arm64')
  assert.equal(plan('arm64', first.env, [...first.flags]), { flags: [], env: {} })
  // V8 reads "_" and "-" alike in flag names.
  assert.not.ok(plan('x64', { LAMBKIN_MEMORY: 'small', ...SMALL_RAM_ENV }, ['--max_semi_space_size=2']).flags.some((f) => f.startsWith('--max-semi-space-size')))
  // A boolean flag turned back on by the user (`--sparkplug`) is not turned off again after it.
  assert.ok(SMALL_RAM_FLAGS.includes('--no-sparkplug'))
  assert.not.ok(plan('arm64', {}, ['--sparkplug']).flags.includes('--no-sparkplug'))
  assert.ok(plan('arm64', {}, ['--max-lazy']).flags.includes('--no-sparkplug'))
})

test('an unknown LAMBKIN_MEMORY or LAMBKIN_WASM_TRAP_HANDLER value is refused with LAMBKIN_CONFIG_INVALID', () => {
  for (const env of [{ LAMBKIN_MEMORY: 'tiny' }, { LAMBKIN_WASM_TRAP_HANDLER: 'maybe' }] as Array<Record<string, string>>) {
    try {
      plan('arm64', env)
      assert.unreachable('accepted ' + JSON.stringify(env))
    } catch (err) {
      assert.instance(err, RuntimeSettingError)
      assert.is((err as RuntimeSettingError).code, 'LAMBKIN_CONFIG_INVALID')
      assert.match((err as Error).message, Object.values(env)[0])
    }
  }
})

test.run()

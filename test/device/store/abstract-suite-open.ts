// Abstract suite cases about opening a store: its options checked with errors naming the key,
// one opener per data dir at a time, and a dir without a store refused when asked not to create one.
import * as assert from 'uvu/assert'
import { rec, rejects } from './abstract-suite-helpers.js'
import type { Case } from './abstract-suite-helpers.js'
import type { StoreOptions } from '../../../device/store/options.js'

export function openCases (it: Case): void {
  it('bad options are refused with CONFIG_INVALID naming the key', async (h) => {
    const cases: Array<[Partial<StoreOptions>, string]> = [
      [{ quotaBytes: 10 }, 'quotaBytes'], [{ quotaBytes: 1.5e6 + 0.5 }, 'quotaBytes'], [{ syncIntervalMs: 0 }, 'syncIntervalMs'],
      [{ ttlMs: { log: -1 } }, 'ttlMs.log'], [{ ttlMs: { logs: 5 } as never }, 'ttlMs.logs'], [{ dir: '' }, 'dir'],
      [{ clock: { now: () => 1 } as never }, 'clock'], [{ writeBufferKiB: 32 }, 'writeBufferKiB'], [{ writeBufferKiB: 1024.5 }, 'writeBufferKiB']
    ]
    for (const [opts, key] of cases) {
      const e = await rejects(h.open(opts, opts.dir ?? h.dir), 'LAMBKIN_CONFIG_INVALID', key)
      assert.is((e as { details?: Record<string, unknown> }).details?.key, key)
      assert.ok(e.message.includes(key), e.message)
    }
  })

  it('a second opener of a data dir is refused with reason "locked" while the first has it, and opens once it closed', async (h) => {
    const st = await h.open()
    await st.commit({ records: [rec('result', 'first')] })
    const e = await rejects(h.open(), 'LAMBKIN_STORE_ERROR', 'a second opener')
    assert.is((e as { details?: Record<string, unknown> }).details?.reason, 'locked')
    assert.equal((await st.commit({ records: [rec('result', 'still fine')] })).seqs, [2], 'the first opener goes on')
    await st.close()
    const again = await h.open()
    assert.equal((await again.read()).map((r) => r.data), ['first', 'still fine'])
  })

  it('createIfMissing: false refuses a dir with no store, and leaves it without one', async (h) => {
    await rejects(h.open({ createIfMissing: false }), 'LAMBKIN_STORE_ERROR', 'no store yet')
    await rejects(h.open({ createIfMissing: false }), 'LAMBKIN_STORE_ERROR', 'still none: the refusal created nothing')
    const st = await h.open()
    await st.commit({ records: [rec('result')] })
    await st.close()
    const viewer = await h.open({ createIfMissing: false })
    assert.is((await viewer.read()).length, 1, 'a store that exists opens')
  })
}

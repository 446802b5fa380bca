// The uploader's linger (UPLOAD_LINGER_MS): under a steady trickle a batch short of the batch
// size waits for the previous batch's linger to pass, so the store's write lane is not given an
// fsync and a range delete per ack round trip; a full batch leaves at once. Real cloud, real
// outbox; only the link's clock is fake, so nothing here depends on how fast the host is.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { CloudLink } from '../../../device/sync/index.js'
import { UPLOAD_LINGER_MS } from '../../../device/sync/uploader.js'
import { LevelOutboxStore } from '../../../device/store/index.js'
import { startCloud } from '../../helpers/cloud.js'
import { linkOptions } from '../../helpers/cloud-link.js'
import { FakeClock } from '../../helpers/fake-clock.js'

async function until (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

const results = (n: number, from: number): Array<{ kind: 'result', fn: string, time: number, data: { n: number } }> =>
  Array.from({ length: n }, (_, j) => ({ kind: 'result' as const, fn: 'f', time: 1, data: { n: from + j } }))

test('[W4] a short batch waits out the linger after the last one; a full batch leaves at once; all arrive once', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-linger-'))
  const store = await LevelOutboxStore.open({ dir })
  const f = await startCloud()
  const secret = await f.addDevice('gh-01')
  const clock = new FakeClock(Date.UTC(2026, 0, 1))
  const link = await CloudLink.start(linkOptions(f.cloud.broker.url, store, secret, { clock, batchRecords: 10 }))
  try {
    await store.commit({ records: results(3, 1) })
    link.notify()
    await until('the first batch acked', async () => (await store.stats()).count === 0)
    assert.is(link.counters.batchesSent, 1)

    // Three more, within the linger (the clock has not moved): they stay in the outbox.
    await store.commit({ records: results(3, 4) })
    link.notify()
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.is(link.counters.batchesSent, 1, 'a short batch waits for the linger')
    assert.is((await store.stats()).count, 3)

    // A full batch's worth now waits: it leaves without the clock moving; the rest waits.
    await store.commit({ records: results(10, 7) })
    link.notify()
    await until('the full batch acked', async () => (await store.stats()).count === 3)
    assert.is(link.counters.batchesSent, 2)
    assert.is(link.counters.recordsSent, 13)

    await clock.advance(UPLOAD_LINGER_MS)
    await until('the rest acked', async () => (await store.stats()).count === 0)
    assert.is(link.counters.batchesSent, 3)
    const seqs = (await f.api<{ records: Array<{ seq: number }> }>('GET', '/v1/devices/gh-01/records?after=0&limit=100')).body.records.map((r) => r.seq)
    assert.equal(seqs, Array.from({ length: 16 }, (_, i) => i + 1), 'in order, none missing, none twice')
  } finally {
    await link.close(0)
    await store.close()
    await f.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()

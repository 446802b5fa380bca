// [W4] The cloud link sends records with the bytes the outbox stored, embedded as CBOR (tag 24),
// once the cloud's ack says it takes them; the cloud stores them as sent and reads them back as
// the values the functions wrote. A real cloud (aedes, LevelDB, Fastify) and a real outbox.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { CloudLink } from '../../../device/sync/index.js'
import { LevelOutboxStore } from '../../../device/store/index.js'
import { startCloud } from '../../helpers/cloud.js'
import { linkOptions } from '../../helpers/cloud-link.js'

async function until (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Data of every shape a function writes, with hostile keys and text beyond ASCII. */
const dataOf = (i: number): unknown => i % 4 === 0
  ? { n: i, nested: { list: [1, -2.5, 'x', null, true], bin: Buffer.from([i & 255]) } }
  : i % 4 === 1 ? `text ${i} ünïcödé ✓` : i % 4 === 2 ? i * 1.5 : { constructor: i, toString: 'no', hasOwnProperty: [] }

test('[W4] records drain embedded after the first ack, every one read back as the value written (with and without a TTL)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-embed-'))
  const store = await LevelOutboxStore.open({ dir })
  const f = await startCloud()
  const secret = await f.addDevice('gh-01')
  const N = 2400
  for (let i = 0; i < N; i += 200) {
    await store.commit({ records: Array.from({ length: 200 }, (_, k) => ({ kind: 'result' as const, fn: 'f', time: 1_700_000_000_000 + i + k, data: dataOf(i + k), ...((i + k) % 3 === 0 ? { ttlMs: 3_600_000 } : {}) })) })
  }
  const link = await CloudLink.start(linkOptions(f.cloud.broker.url, store, secret, { status: () => ({ agent: '0.1.0', functions: [] }), batchRecords: 300, window: 1 }))
  try {
    await until('all acked', async () => (await store.stats()).count === 0)
    // The first batch goes before any ack (decoded); the rest embedded.
    assert.is(link.counters.recordsSent, N)
    assert.is(link.counters.recordsEmbedded, N - 300)
    const got = (await f.api<{ records: Array<{ seq: number, time: number, data: unknown }> }>('GET', '/v1/devices/gh-01/records?after=0&limit=10000')).body.records
    assert.is(got.length, N)
    // What the API answers is JSON: compare with the written values as JSON shows them.
    for (const r of got) assert.equal(r.data, JSON.parse(JSON.stringify(dataOf(r.seq - 1))), `seq ${r.seq}`)
    assert.ok(got.every((r, i) => r.seq === i + 1 && r.time === 1_700_000_000_000 + i))
  } finally {
    await link.close()
    await store.close()
    await f.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()

// DurablePublishes (device/links/durable-publishes.ts) over a real LevelDB store: what it keeps
// in memory stays bounded whatever the load (WINDOW handed over, at most MAX_QUEUED or
// MAX_QUEUED_BYTES queued behind them, the rest read back from the store), every committed
// publish is handed over once and in id order, and each leaves the store only on its PUBACK.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DurablePublishes, MAX_QUEUED, MAX_QUEUED_BYTES } from '../../../device/links/durable-publishes.js'
import type { OutgoingPublish } from '../../../device/links/durable-publishes.js'
import { LevelOutboxStore } from '../../../device/store/index.js'

const WINDOW = 8

/** A sink that is always ready and acknowledges only when told to. */
function sink (): { sent: number[], ack: (n: number) => void, send: (p: OutgoingPublish, done: (err?: Error) => void) => void, ready: () => boolean } {
  const sent: number[] = []
  const pending: Array<() => void> = []
  return {
    sent,
    ready: () => true,
    send: (p, done) => { sent.push(p.id as number); pending.push(() => done()) },
    ack: (n) => { for (const done of pending.splice(0, n)) done() }
  }
}

const tick = async (): Promise<void> => await new Promise((resolve) => setTimeout(resolve, 5))

async function setup (): Promise<{
  dir: string
  store: LevelOutboxStore
  dp: DurablePublishes
  s: ReturnType<typeof sink>
  offer: (count: number, bytes: number) => Promise<void>
}> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-durable-'))
  const store = await LevelOutboxStore.open({ dir, quotaBytes: 1024 ** 3 })
  const dp = new DurablePublishes(store, () => {}, WINDOW)
  const s = sink()
  dp.attach(s)
  dp.kick()
  await tick()
  const offer = async (count: number, bytes: number): Promise<void> => {
    // Committed one by one and offered as each commit resolves, as the invoker does.
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const p = { topic: `out/${i}`, payload: 'x'.repeat(bytes), qos: 1 as const, retain: false }
        const { publishIds } = await store.commit({ publishes: [p] })
        dp.offer({ ...p, id: publishIds[0] })
      })
    )
  }
  return { dir, store, dp, s, offer }
}

async function drain (dp: DurablePublishes, s: ReturnType<typeof sink>, total: number, check: () => void): Promise<void> {
  for (let rounds = 0; s.sent.length < total || dp.inflight > 0; rounds++) {
    if (rounds > 10_000) throw new Error(`stuck: sent ${s.sent.length} of ${total}, ${dp.inflight} in flight`)
    check()
    s.ack(WINDOW)
    await tick()
  }
}

test('publishes behind a full window wait in a bounded queue, then in the store; each goes out once, in id order', async () => {
  const { dir, store, dp, s, offer } = await setup()
  try {
    const total = 50 * Math.ceil(MAX_QUEUED * 3 / 50)
    let peakQueued = 0
    const check = (): void => {
      assert.ok(dp.inflight <= WINDOW, `${dp.inflight} in flight`)
      assert.ok(dp.queued <= MAX_QUEUED, `${dp.queued} queued`)
      peakQueued = Math.max(peakQueued, dp.queued)
    }
    await offer(50, 10)
    check()
    assert.is(s.sent.length, WINDOW, 'no more than the window is handed over')
    // Committed faster than acknowledged: the queue fills, then the store takes over.
    for (let n = 50; n < total; n += 50) {
      await offer(50, 10)
      check()
      s.ack(WINDOW / 2)
      await tick()
    }
    await drain(dp, s, total, check)
    assert.equal(s.sent, Array.from({ length: total }, (_, i) => i + 1), 'every publish once, in id order')
    assert.ok(peakQueued > 0, 'the queue was used')
    await dp.close()
    assert.is((await store.stats()).pendingPublishes, 0, 'every acknowledged publish left the store')
  } finally {
    await store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('the queue holds at most MAX_QUEUED_BYTES of payload', async () => {
  const { dir, store, dp, s, offer } = await setup()
  try {
    const bytes = 64 * 1024
    const total = WINDOW + 3 * MAX_QUEUED_BYTES / bytes
    const check = (): void => { assert.ok(dp.queued * bytes <= MAX_QUEUED_BYTES, `${dp.queued} queued of ${bytes} bytes`) }
    for (let n = 0; n < total; n += 4) {
      await offer(4, bytes)
      check()
      s.ack(1)
      await tick()
    }
    await drain(dp, s, total, check)
    assert.equal(s.sent, Array.from({ length: total }, (_, i) => i + 1))
  } finally {
    await dp.close()
    await store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a publish leaves the store only once its broker acknowledged it', async () => {
  const { dir, store, dp, s, offer } = await setup()
  try {
    await offer(WINDOW * 2, 10)
    await tick()
    assert.is((await store.stats()).pendingPublishes, WINDOW * 2, 'none acknowledged, none removed')
    s.ack(3)
    await tick()
    // A removal rides with the store's next write (device/store/write-lane.ts, lazy jobs): a flush is one.
    await store.flush()
    assert.equal((await store.pendingPublishes()).map((p) => p.id), Array.from({ length: WINDOW * 2 - 3 }, (_, i) => i + 4))
  } finally {
    await dp.close()
    await store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a publish the closed client gives back while the store is being read is sent again, not left behind the cursor', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-durable-'))
  const store = await LevelOutboxStore.open({ dir, quotaBytes: 1024 ** 3 })
  // The store's reads wait for `open` when asked to, so a callback can land during one.
  let gate: Promise<void> | undefined
  const gated = new Proxy(store, {
    get: (t, k) => {
      if (k === 'pendingPublishes') return async (o?: { afterId?: number, limit?: number }) => { await gate; return await t.pendingPublishes(o) }
      const v = Reflect.get(t, k) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v
    }
  })
  const dp = new DurablePublishes(gated, () => {}, WINDOW)
  const sent: number[] = []
  const dones = new Map<number, (err?: Error) => void>()
  dp.attach({ ready: () => true, send: (p, done) => { sent.push(p.id as number); dones.set(p.id as number, done) } })
  const total = MAX_QUEUED + 300
  try {
    for (let i = 0; i < total; i++) await store.commit({ publishes: [{ topic: 'out', payload: String(i), qos: 1, retain: false }] })
    dp.kick()
    while (dp.queued < MAX_QUEUED - WINDOW) await tick()
    await tick()
    // The queue is full, the rest wait in the store: an ack makes room and starts a read past it.
    let open = (): void => {}
    gate = new Promise((resolve) => { open = resolve })
    dones.get(2)?.()
    dones.delete(2)
    await tick()
    // Meanwhile the connection closes: publish 1 comes back unacknowledged.
    dones.get(1)?.(new Error('Connection closed'))
    dones.delete(1)
    open()
    gate = undefined
    for (let rounds = 0; !sent.slice(1).includes(1) || dones.size > 0; rounds++) {
      if (rounds > 2000) throw new Error(`publish 1 never sent again (sent ${sent.length}, ${dones.size} waiting)`)
      for (const [id, done] of [...dones]) { dones.delete(id); done() }
      await tick()
    }
    assert.is(sent.filter((id) => id === 1).length, 2, 'publish 1 sent again once')
  } finally {
    await dp.close()
    await store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('[W9] after a restart a stored publish is sent again with its hop and function; one stored without them, without', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-durable-'))
  let store = await LevelOutboxStore.open({ dir })
  const hop = { traceId: 'trace-1', hop: 66 }
  await store.commit({ publishes: [{ topic: 'loop/a', payload: '{"n":66}', qos: 1, retain: false, hop, fn: 'loop' }] })
  await store.commit({ publishes: [{ topic: 'loop/b', payload: 'old', qos: 1, retain: false }] })
  // Killed before anything was handed over: the next run reads them back from the store.
  await store.close()
  store = await LevelOutboxStore.open({ dir })
  const dp = new DurablePublishes(store, () => {}, WINDOW)
  const sent: OutgoingPublish[] = []
  try {
    dp.attach({ ready: () => true, send: (p, done) => { sent.push(p); done() } })
    dp.kick()
    for (let i = 0; i < 200 && sent.length < 2; i++) await tick()
    assert.equal(sent.map((p) => [p.topic, p.hop, p.fn]), [['loop/a', hop, 'loop'], ['loop/b', undefined, undefined]])
    assert.ok(!('hop' in sent[1]) && !('fn' in sent[1]))
  } finally {
    await dp.close()
    await store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test.run()

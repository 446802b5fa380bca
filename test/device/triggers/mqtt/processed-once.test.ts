// processed-once.ts with a real LevelDB store: which copies of a QoS 1 message are taken as
// sent again (DUP, the replay at the start of a resumed connection, a first copy still
// committing, a copy of a message never acknowledged), which are new messages reusing an id, and that marks are bounded, survive a
// restart and go with a clean start.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { LevelOutboxStore } from '../../../../device/store/index.js'
import type { OutboxStore } from '../../../../device/store/index.js'
import { MARK_PREFIX, MAX_SESSIONS, ProcessedOnce, SLOTS, messageHash, routeKey } from '../../../../device/triggers/mqtt/processed-once.js'
import type { Decision, Ticket } from '../../../../device/triggers/mqtt/processed-once.js'
import type { MessageOrigin } from '../../../../device/links/trigger-link.js'

const R = routeKey('fn', 0, 'a/+')

async function withStore (fn: (store: OutboxStore, dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-once-'))
  const store = await LevelOutboxStore.open({ dir })
  try { await fn(store, dir) } finally { await store.close().catch(() => {}); fs.rmSync(dir, { recursive: true, force: true }) }
}

const origin = (packetId: number, o: Partial<MessageOrigin> = {}): MessageOrigin => ({ session: 'link', connection: 1, resumed: true, persistent: true, packetId, dup: false, ...o })

/** Runs the route as routing.ts does: commits the mark with an outcome record, unless told to fail. */
async function handle (once: ProcessedOnce, store: OutboxStore, o: MessageOrigin, payload: string, fail = false): Promise<Decision> {
  const t: Ticket = once.take(o, 'a/1', Buffer.from(payload))
  const d = await t.decide(R)
  if (d === 'skip') return d
  const m = t.mark(R)
  try {
    if (fail) throw new Error('commit failed')
    await store.commit({ records: [{ kind: 'result', time: 1, data: payload }], meta: m.meta() })
    m.settled(true)
  } catch {
    m.settled(false)
  }
  return d
}

test('a copy with DUP set of a committed message is skipped; without DUP on the same connection it is a new message', async () => {
  await withStore(async (store) => {
    const once = await ProcessedOnce.load(store)
    assert.is(await handle(once, store, origin(7), 'x'), 'run')
    assert.is(await handle(once, store, origin(7, { dup: true }), 'x'), 'skip')
    assert.is(await handle(once, store, origin(7), 'x'), 'run', 'the id was acknowledged and used again')
    assert.is(await handle(once, store, origin(7, { dup: true }), 'other bytes'), 'run', 'same id, other message')
  })
})

test('a resumed connection replays what the connection before took (no DUP, as aedes and MQTT.js send) until a new message comes', async () => {
  await withStore(async (store) => {
    const once = await ProcessedOnce.load(store)
    for (let id = 1; id <= 3; id++) assert.is(await handle(once, store, origin(id), `m${id}`), 'run')
    const c2 = { connection: 2 }
    assert.is(await handle(once, store, origin(2, c2), 'm2'), 'skip')
    assert.is(await handle(once, store, origin(3, c2), 'm3'), 'skip')
    assert.is(await handle(once, store, origin(4, c2), 'm4'), 'run', 'a new message')
    assert.is(await handle(once, store, origin(1, c2), 'm1'), 'run', 'after a new message the replay is over: only DUP says "again"')
    assert.is(await handle(once, store, origin(1, { connection: 2, dup: true }), 'm1'), 'skip')
  })
})

test('a connection that did not resume the session (or a sensor that started clean) forgets its marks, also on disk', async () => {
  await withStore(async (store) => {
    const once = await ProcessedOnce.load(store)
    await handle(once, store, origin(5), 'x')
    assert.is((await store.metaEntries(MARK_PREFIX)).length, 1)
    assert.is(await handle(once, store, origin(5, { connection: 2, resumed: false, dup: true }), 'x'), 'run')
    // The forgetting commit went before this message's mark.
    const entries = await store.metaEntries(MARK_PREFIX)
    assert.is(entries.length, 1)
    assert.is((entries[0].value as { k: string }).k.endsWith('-2'), true)
    // A sensor's clean session: its copies run (it never sends them in a later connection) and nothing is marked.
    assert.is(await handle(once, store, origin(6, { session: 'sensor s1', resumed: false, persistent: false }), 'y'), 'run')
    assert.is(await handle(once, store, origin(6, { session: 'sensor s1', resumed: false, persistent: false, dup: true }), 'y'), 'run')
    assert.is((await store.metaEntries(MARK_PREFIX)).length, 1)
  })
})

test('marks survive a restart: the broker sending again after the agent restarted finds the outcome stored', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-once-'))
  try {
    let store = await LevelOutboxStore.open({ dir })
    const first = await ProcessedOnce.load(store)
    await handle(first, store, origin(9), 'kept')
    await store.close()
    store = await LevelOutboxStore.open({ dir })
    const again = await ProcessedOnce.load(store)
    assert.is(await handle(again, store, origin(9, { connection: 1 }), 'kept'), 'skip', 'the first connection of a new run replays the last run\'s')
    await store.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

/** A link's PUBACK counts (MessageOrigin.pubacks), and the link writing a PUBACK for `id`. */
const counts = (): { pubacks: Map<number, number>, ack: (id: number) => void } => {
  const pubacks = new Map<number, number>()
  return { pubacks, ack: (id) => { pubacks.set(id, (pubacks.get(id) ?? 0) + 1) } }
}

test('a copy of a message whose PUBACK was never written is skipped anywhere in a later connection, even after a new message', async () => {
  await withStore(async (store) => {
    const once = await ProcessedOnce.load(store)
    const { pubacks, ack } = counts()
    for (let id = 1; id <= 3; id++) assert.is(await handle(once, store, origin(id, { pubacks }), `m${id}`), 'run')
    // The link was cut before any PUBACK left; aedes delivers a live message first, then sends the three again without DUP.
    const c2 = { connection: 2, pubacks }
    assert.is(await handle(once, store, origin(10, c2), 'live'), 'run', 'a new message')
    ack(10)
    for (let id = 1; id <= 3; id++) {
      assert.is(await handle(once, store, origin(id, c2), `m${id}`), 'skip', `message ${id} never acknowledged: sent again`)
      ack(id)
    }
    // Acknowledged now: the sender may give the id to a new message, even with the same bytes.
    assert.is(await handle(once, store, origin(11, { connection: 3, pubacks }), 'live 2'), 'run')
    assert.is(await handle(once, store, origin(2, { connection: 3, pubacks }), 'm2'), 'run', 'its copy was acknowledged in connection 2')
  })
})

test('a copy of a message whose PUBACK was written (maybe lost) keeps the replay window; a new message reusing its id runs', async () => {
  await withStore(async (store) => {
    const once = await ProcessedOnce.load(store)
    const { pubacks, ack } = counts()
    for (let id = 1; id <= 3; id++) assert.is(await handle(once, store, origin(id, { pubacks }), `m${id}`), 'run')
    ack(1)
    ack(2)
    const c2 = { connection: 2, pubacks }
    assert.is(await handle(once, store, origin(2, c2), 'm2'), 'skip', 'first thing after the reconnect: the window rule')
    assert.is(await handle(once, store, origin(3, c2), 'm3'), 'skip', 'never acknowledged, and keeps the window open')
    assert.is(await handle(once, store, origin(10, c2), 'live'), 'run')
    assert.is(await handle(once, store, origin(1, c2), 'm1'), 'run', 'its PUBACK was written: after a new message it is a new message reusing the id')
    assert.is(await handle(once, store, origin(1, { connection: 2, pubacks, dup: true }), 'm1'), 'skip', 'DUP still says "again"')
    // On the same connection a mark never acknowledged says nothing (the sender does not resend there).
    assert.is(await handle(once, store, origin(20, c2), 'same'), 'run')
    assert.is(await handle(once, store, origin(20, c2), 'same'), 'run')
  })
})

test('a message sent again in two reconnects in a row (its PUBACK written and lost each time), new messages between: skipped in both replays', async () => {
  await withStore(async (store) => {
    const once = await ProcessedOnce.load(store)
    const { pubacks, ack } = counts()
    for (let id = 1; id <= 3; id++) { assert.is(await handle(once, store, origin(id, { pubacks }), `m${id}`), 'run'); ack(id) }
    const c2 = { connection: 2, pubacks }
    for (let id = 1; id <= 3; id++) { assert.is(await handle(once, store, origin(id, c2), `m${id}`), 'skip'); ack(id) }
    assert.is(await handle(once, store, origin(4, c2), 'm4'), 'run', 'a new message ends the replay')
    ack(4)
    // Cut again: aedes sends 1-4 again, without DUP; 1-3 were marked in connection 1, skipped and acknowledged in 2.
    const c3 = { connection: 3, pubacks }
    for (let id = 1; id <= 4; id++) { assert.is(await handle(once, store, origin(id, c3), `m${id}`), 'skip', `message ${id}, third copy`); ack(id) }
    assert.is(await handle(once, store, origin(5, c3), 'm5'), 'run')
    assert.is(await handle(once, store, origin(1, c3), 'm1'), 'run', 'after a new message the replay is over')
  })
})

test('a connection cut during its replay: the next one still knows the messages of both connections before it', async () => {
  await withStore(async (store) => {
    const once = await ProcessedOnce.load(store)
    const { pubacks, ack } = counts()
    for (let id = 1; id <= 3; id++) { assert.is(await handle(once, store, origin(id, { pubacks }), `m${id}`), 'run'); ack(id) }
    assert.is(await handle(once, store, origin(1, { connection: 2, pubacks }), 'm1'), 'skip')
    ack(1)
    const c3 = { connection: 3, pubacks }
    for (let id = 1; id <= 3; id++) assert.is(await handle(once, store, origin(id, c3), `m${id}`), 'skip', `message ${id}`)
    assert.is(await handle(once, store, origin(4, c3), 'm4'), 'run')
  })
})

test('a copy skipped in a later connection is noted on disk: after a restart the broker sending it once more finds it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-once-'))
  try {
    let store = await LevelOutboxStore.open({ dir })
    const first = await ProcessedOnce.load(store)
    const { pubacks, ack } = counts()
    for (let id = 1; id <= 2; id++) { await handle(first, store, origin(id, { pubacks }), `m${id}`); ack(id) }
    const c2 = { connection: 2, pubacks }
    for (let id = 1; id <= 2; id++) { assert.is(await handle(first, store, origin(id, c2), `m${id}`), 'skip'); ack(id) }
    assert.is(await handle(first, store, origin(3, c2), 'm3'), 'run')
    await store.close()
    store = await LevelOutboxStore.open({ dir })
    const again = await ProcessedOnce.load(store)
    for (let id = 1; id <= 3; id++) assert.is(await handle(again, store, origin(id), `m${id}`), 'skip', `message ${id} after the restart`)
    await store.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('after a restart, or without PUBACK counts (the embedded broker), marks keep the window rule only', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-once-'))
  try {
    let store = await LevelOutboxStore.open({ dir })
    const first = await ProcessedOnce.load(store)
    const { pubacks } = counts()
    await handle(first, store, origin(9, { pubacks }), 'kept')
    // A sensor's persistent session on the embedded broker: no counts.
    await handle(first, store, origin(4, { session: 'sensor s1' }), 'x')
    assert.is(await handle(first, store, origin(5, { session: 'sensor s1', connection: 2 }), 'live'), 'run')
    assert.is(await handle(first, store, origin(4, { session: 'sensor s1', connection: 2 }), 'x'), 'run', 'no counts: the window rule')
    await store.close()
    store = await LevelOutboxStore.open({ dir })
    const again = await ProcessedOnce.load(store)
    const next = counts()
    assert.is(await handle(again, store, origin(1, { pubacks: next.pubacks }), 'live'), 'run')
    assert.is(await handle(again, store, origin(9, { pubacks: next.pubacks }), 'kept'), 'run', 'its PUBACK may have left before the crash: the window rule')
    await store.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a copy that arrives while the first copy commits waits for it; a failed commit leaves no mark', async () => {
  await withStore(async (store) => {
    const once = await ProcessedOnce.load(store)
    const t1 = once.take(origin(3), 'a/1', Buffer.from('p'))
    assert.is(await t1.decide(R), 'run')
    const m1 = t1.mark(R)
    const copy = once.take(origin(3, { connection: 2 }), 'a/1', Buffer.from('p')).decide(R)
    assert.instance(copy, Promise, 'the first copy is still committing')
    m1.settled(false)
    assert.is(await copy, 'run', 'its commit failed: the copy runs')
    assert.is(await handle(once, store, origin(3, { connection: 3, dup: true }), 'p', true), 'run')
    assert.is(await handle(once, store, origin(3, { connection: 4, dup: true }), 'p'), 'run', 'nothing was marked by the failed commits')
    assert.is(await handle(once, store, origin(3, { connection: 5, dup: true }), 'p'), 'skip')
  })
})

test('a mark whose commit succeeded stays when the run fails after it (a publish or an observer that threw): a copy is skipped', async () => {
  await withStore(async (store) => {
    const once = await ProcessedOnce.load(store)
    const t = once.take(origin(9), 'a/1', Buffer.from('p'))
    assert.is(await t.decide(R), 'run')
    const m = t.mark(R)
    await store.commit({ records: [{ kind: 'result', time: 1, data: 'p' }], meta: m.meta() })
    m.settled(true)
    m.settled(false)
    assert.is(await handle(once, store, origin(9, { connection: 2, dup: true }), 'p'), 'skip')
  })
})

test(`a session keeps at most ${SLOTS} marks per route (packet ids wrap at 65535)`, async () => {
  await withStore(async (store) => {
    const once = await ProcessedOnce.load(store)
    for (let id = 1; id <= SLOTS + 200; id++) await handle(once, store, origin(id), `m${id}`)
    assert.is(once.size, SLOTS)
    assert.is((await store.metaEntries(MARK_PREFIX)).length, SLOTS)
    assert.is(await handle(once, store, origin(SLOTS + 200, { dup: true }), `m${SLOTS + 200}`), 'skip')
    assert.is(await handle(once, store, origin(100, { dup: true }), 'm100'), 'run', 'its slot holds a newer message')
  })
})

test(`at most ${MAX_SESSIONS} sessions keep marks: the one heard from longest ago forgets its own`, async () => {
  await withStore(async (store) => {
    const once = await ProcessedOnce.load(store)
    for (let i = 0; i <= MAX_SESSIONS; i++) await handle(once, store, origin(1, { session: `sensor s${i}` }), 'x')
    assert.is(once.size, MAX_SESSIONS)
    assert.is(await handle(once, store, origin(1, { session: `sensor s${MAX_SESSIONS}`, dup: true }), 'x'), 'skip', 'the newest kept its mark')
    assert.is(await handle(once, store, origin(1, { session: 'sensor s0', dup: true }), 'x'), 'run', 'the oldest forgot')
    // The eviction's deletes are written in order with the marks.
    assert.is((await store.metaEntries(MARK_PREFIX)).length, once.size)
  })
})

test('a message\'s hash is the digest marks stored by earlier versions carry (two updates of a Hash), for any topic', () => {
  const older = (topic: string, payload: Uint8Array): string =>
    createHash('sha256').update(`${Buffer.byteLength(topic)}:${topic}`).update(payload).digest('hex').slice(0, 16)
  for (const [topic, payload] of [['a/b', Buffer.from('{"value":26}')], ['température/é/🌡', Buffer.from([0, 255, 1])], ['__proto__', new Uint8Array(0)]] as const) {
    assert.is(messageHash(topic, payload), older(topic, payload))
  }
  assert.is.not(messageHash('a/b', Buffer.from('1')), messageHash('a/b1', Buffer.from('')))
})

test.run()

// Field tests of lambkin's resend rules (src/mqtt/session-resend.ts) under load and with odd
// names, on a real aedes: 200 sessions resuming at once with queued messages, a `#` subscriber
// with topics and client ids such as `__proto__` and `constructor`, QoS 0 beside QoS 1,
// retained messages on resume, and a slow consumer whose socket is not read during the resend.
// No message lost, none twice without DUP, each topic in order within a connection, queues empty.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkSession, connectRaw, startResendBroker, text } from '../../helpers/raw-mqtt.js'
import type { Raw, ResendBroker } from '../../helpers/raw-mqtt.js'

const seqOf = (body: string): number => Number(body.split('-').at(-1))

/** Resolves once aedes let `n` clients go. */
function disconnects (b: ResendBroker, n: number): Promise<void> {
  let left = n
  return new Promise<void>((resolve) => {
    const gone = (): void => { if (--left === 0) { b.broker.off('clientDisconnect', gone); resolve() } }
    b.broker.on('clientDisconnect', gone)
  })
}

/** Counts the PUBACKs (and PUBCOMPs) aedes handled per client id; `reach` resolves once `id` has `n`. */
function ackCounter (b: ResendBroker): { reach: (id: string, n: number) => Promise<void> } {
  const count = new Map<string, number>()
  let wake: Array<() => void> = []
  b.broker.on('ack', (_p, client) => {
    count.set(client.id, (count.get(client.id) ?? 0) + 1)
    const w = wake
    wake = []
    for (const f of w) f()
  })
  return {
    reach: async (id, n) => {
      while ((count.get(id) ?? 0) < n) await new Promise<void>((resolve) => wake.push(resolve))
    }
  }
}

test('200 sessions resume at once with queued messages and one routed during the resumes: each gets every message once, resends with DUP, queues empty', async () => {
  const b = await startResendBroker()
  const n = 200
  const ids = Array.from({ length: n }, (_, i) => `many-${i}`)
  try {
    const first = await Promise.all(ids.map(async (id, i) => {
      const c = await connectRaw(b.port, id)
      c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `dev/${i}`, qos: 1 }, { topic: 'all', qos: 1 }] })
      await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
      return c
    }))
    await Promise.all(ids.map(async (_, i) => { await b.publish(`dev/${i}`, `d${i}-1`) }))
    await Promise.all(first.map(async (c) => { await c.until(() => c.publishes().length === 1, 'its first message') }))
    const gone = disconnects(b, n)
    for (const c of first) c.close()
    await gone
    const acks = ackCounter(b)
    await Promise.all(ids.map(async (_, i) => { await b.publish(`dev/${i}`, `d${i}-2`) }))
    await b.publish('all', 'all-1')
    b.broker.once('client', () => { void b.publish('all', 'all-2') })
    const second = await Promise.all(ids.map(async (id) => await connectRaw(b.port, id, { ack: () => true })))
    await b.publish('all', 'all-3')
    await Promise.all(second.map(async (c) => { await c.until(() => c.publishes().some((p) => text(p) === 'all-3'), 'all-3') }))
    const problems: string[] = []
    second.forEach((c, i) => {
      const got = c.publishes().map((p) => `${text(p)}${p.dup ? '+dup' : ''}`)
      const want = [`d${i}-1+dup`, `d${i}-2`, 'all-1', 'all-2', 'all-3']
      if (JSON.stringify([...got].sort()) !== JSON.stringify([...want].sort())) problems.push(`${ids[i]}: ${got.join(' ')}`)
      problems.push(...checkSession([{ publishes: first[i].publishes() }, { publishes: c.publishes() }], seqOf).problems.map((s) => `${ids[i]} ${s}`))
    })
    assert.equal(problems, [])
    await Promise.all(ids.map(async (id) => { await acks.reach(id, 5) }))
    const gone2 = disconnects(b, n)
    for (const c of second) c.close()
    await gone2
    const left = await Promise.all(ids.map(async (id) => await b.queued(id)))
    assert.equal(left.filter((x) => x > 0), [], 'every queue empty once all is acked')
  } finally {
    await b.close()
  }
})

test('a `#` subscriber and client ids `__proto__`, `constructor`: topics `__proto__`, `constructor`, `toString`, QoS 0 beside QoS 1, across a resume', async () => {
  const b = await startResendBroker()
  const topics = ['__proto__', 'constructor', 'toString', '__proto__/constructor', 'hasOwnProperty']
  const acks = ackCounter(b)
  try {
    for (const id of ['__proto__', 'constructor', 'hash-sub']) {
      let c = await connectRaw(b.port, id)
      c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 1 }, { topic: 'zero/#', qos: 0 }] })
      await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
      const conns: Raw[] = [c]
      for (const t of topics) await b.publish(t, `${id}-${t}-1`)
      await c.until(() => c.publishes().length === topics.length, 'the first round')
      let gone = disconnects(b, 1)
      c.close()
      await gone
      for (const t of topics) await b.publish(t, `${id}-${t}-2`)
      b.broker.once('client', () => {
        for (const t of topics) void b.publish(t, `${id}-${t}-3`)
        void b.publish('zero/x', `${id}-zero-1`, 0)
      })
      c = await connectRaw(b.port, id, { ack: () => true })
      conns.push(c)
      for (const t of topics) await b.publish(t, `${id}-${t}-4`)
      await c.until(() => topics.every((t) => c.publishes().some((p) => text(p) === `${id}-${t}-4`)), 'the last round')
      const { problems, seen } = checkSession(conns.map((x) => ({ publishes: x.publishes() })), seqOf)
      assert.equal(problems, [], id)
      const want = topics.flatMap((t) => [1, 2, 3, 4].map((k) => `${id}-${t}-${k}`))
      assert.equal(want.filter((w) => !seen.has(w)), [], `${id}: none lost`)
      // The QoS 0 message reaches the connection that is resuming (it is not held) or, when it
      // was routed between the connections, no one: never twice.
      assert.ok(c.publishes().filter((p) => text(p) === `${id}-zero-1`).length <= 1)
      await acks.reach(id, c.publishes().filter((p) => p.qos > 0).length)
      gone = disconnects(b, 1)
      c.close()
      await gone
      assert.is(await b.queued(id), 0, `${id}: queue empty`)
    }
  } finally {
    await b.close()
  }
})

test('retained messages on resume: not sent again to a restored subscription; a SUBSCRIBE sent with the CONNECT gets the retained message once, a live one once', async () => {
  const b = await startResendBroker()
  try {
    const acks = ackCounter(b)
    await b.publish('r/1', 'r-1', 1, true)
    await b.publish('s/1', 's-1', 1, true)
    const id = 'retained-sub'
    let c = await connectRaw(b.port, id, { ack: () => true })
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'r/#', qos: 1 }] })
    await c.until(() => c.publishes().length === 1, 'the retained r-1')
    assert.is(c.publishes()[0].retain, true)
    let gone = disconnects(b, 1)
    c.close()
    await gone
    await b.publish('r/1', 'r-2', 1, true)
    b.broker.once('client', () => { void b.publish('r/1', 'r-3', 1, true) })
    // The SUBSCRIBE goes right behind the CONNECT: aedes handles it while the session resumes.
    c = await connectRaw(b.port, id, { ack: () => true, noWait: true })
    c.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 's/#', qos: 1 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    await b.publish('r/1', 'r-4', 1, true)
    await b.publish('s/1', 's-2', 1, true)
    await c.until(() => c.publishes().some((p) => text(p) === 'r-4') && c.publishes().some((p) => text(p) === 's-2'), 'r-4 and s-2')
    assert.equal(c.publishes().filter((p) => p.topic === 'r/1').map(text), ['r-2', 'r-3', 'r-4'], 'r-1 is not sent again')
    assert.equal(c.publishes().filter((p) => p.topic === 's/1').map(text), ['s-1', 's-2'])
    await acks.reach(id, 1 + c.publishes().length)
    gone = disconnects(b, 1)
    c.close()
    await gone
    assert.is(await b.queued(id), 0)
  } finally {
    await b.close()
  }
})

test('a slow consumer that reads nothing during a resend of 400 messages of 4 KiB: messages routed meanwhile come after them, all once, in order', async () => {
  const b = await startResendBroker()
  try {
    const id = 'slow-sub'
    const acks = ackCounter(b)
    let c = await connectRaw(b.port, id)
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'slow', qos: 1 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    const gone = disconnects(b, 1)
    c.close()
    await gone
    const pad = 'x'.repeat(4096)
    for (let i = 0; i < 400; i++) await b.publish('slow', `${pad}-${i}`)
    c = await connectRaw(b.port, id, { ack: () => true })
    c.socket.pause()
    // aedes waits for the socket to drain; these are routed while it does.
    for (let i = 400; i < 600; i++) await b.publish('slow', `${pad}-${i}`)
    c.socket.resume()
    await c.until(() => c.publishes().some((p) => seqOf(text(p)) === 599), 'the last message', 60_000)
    const got = c.publishes().map((p) => seqOf(text(p)))
    assert.equal(got, Array.from({ length: 600 }, (_, i) => i), 'each once, in order')
    assert.ok(c.publishes().every((p) => !p.dup), 'none was sent before')
    await acks.reach(id, 600)
    const left = disconnects(b, 1)
    c.close()
    await left
    assert.is(await b.queued(id), 0)
  } finally {
    await b.close()
  }
})

test('a slow consumer taken over in the middle of its resend (300 queued, 100 held): the new connection gets all 450 once, in order, queue empty', async () => {
  const b = await startResendBroker()
  try {
    const id = 'slow-takeover'
    const acks = ackCounter(b)
    const c = await connectRaw(b.port, id)
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 's', qos: 1 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    let gone = disconnects(b, 1)
    c.close()
    await gone
    const pad = 'x'.repeat(4096)
    for (let i = 0; i < 300; i++) await b.publish('s', `${pad}-${i}`)
    const slow = await connectRaw(b.port, id)
    slow.socket.pause()
    for (let i = 300; i < 400; i++) await b.publish('s', `${pad}-${i}`)
    const fast = await connectRaw(b.port, id, { ack: () => true })
    for (let i = 400; i < 450; i++) await b.publish('s', `${pad}-${i}`)
    await fast.until(() => fast.publishes().some((p) => seqOf(text(p)) === 449), 'the last message', 60_000)
    assert.equal(fast.publishes().map((p) => seqOf(text(p))), Array.from({ length: 450 }, (_, i) => i), 'each once, in order')
    slow.socket.resume()
    assert.equal(checkSession([{ publishes: slow.publishes() }, { publishes: fast.publishes() }], seqOf).problems, [])
    await acks.reach(id, 450)
    gone = disconnects(b, 1)
    fast.close()
    slow.close()
    await gone
    assert.is(await b.queued(id), 0)
  } finally {
    await b.close()
  }
})

test.run()

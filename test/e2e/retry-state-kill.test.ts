// kill -9 of `lambkin device`, or PUBACKs lost and the trigger link cut (a TCP relay), in the middle of a QoS 1 burst to a function that fails its first
// attempt at each message (retried per its manifest, with backoff), counts messages in ctx.state
// and publishes on at QoS 1, on trigger topics named like Object.prototype's members. After a
// restart on the same data (or the link back): every trigger acknowledged, each with exactly one result in the
// cloud (seqs 1, 2, 3... [W4]), each result after one retry, the counts the results saw are
// 1..N each once (no message counted twice or lost from the state, in version order), and every
// message's output publish reached the broker. Real `lambkin cloud` and `lambkin device`, aedes
// as the trigger broker (docs/durability.md, "kill -9 loses nothing acknowledged", "A link blip").
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { relayBurst } from './fixtures/relay-world.js'
import type { RelayFault, RelayOutcome } from './fixtures/relay-world.js'

const TOPICS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', 'plain']

const CODE = `const tried = new Set()
export default (e, ctx) => {
  const id = e.payload.id
  if (!tried.has(id)) { tried.add(id); throw new Error('first attempt fails') }
  ctx.state.n = (ctx.state.n ?? 0) + 1
  ctx.publish('out/' + e.topic.split('/')[1], { id, n: ctx.state.n }, { qos: 1 })
  return { id, n: ctx.state.n, topic: e.topic }
}`

/** Each message counted once in ctx.state, each result after its one retry, the hostile topic names kept. */
function countedOnceRetriedTopicsKept ({ results, out }: RelayOutcome): void {
  const counts = results.map((r) => (r.data.result as { n: number }).n).sort((a, b) => a - b)
  const wrong = counts.filter((n, i) => n !== i + 1)
  assert.equal(wrong.slice(0, 10), [], 'the counts the results saw are 1..N, each message counted once in ctx.state')
  const notRetried = results.filter((r) => r.data.attempts !== 2)
  assert.equal(notRetried.slice(0, 5).map((r) => r.data.attempts), [], 'every result after its one retry')
  const badTopic = results.filter((r) => {
    const res = r.data.result as { id: number, topic: string }
    return res.topic !== `in/${TOPICS[res.id % TOPICS.length]}` || out.get(res.id)?.at(-1) !== `out/${TOPICS[res.id % TOPICS.length]}`
  })
  assert.equal(badTopic.slice(0, 5).map((r) => r.data.result), [], 'topics named like Object.prototype members kept as they are')
}

/**
 * The burst with `fault` once 500 are acked: a SIGKILL and restart, or PUBACKs dropped then the
 * trigger link cut four times. `asLambkin`: the trigger broker is aedes with the resend rules of
 * lambkin's own brokers (DUP on resends, resends first: src/mqtt/session-resend.ts).
 */
async function burst (fault: RelayFault, asLambkin = false): Promise<void> {
  await relayBurst({
    device: 'retry-state-kill-01',
    fn: { name: 'counter', code: CODE, manifest: { retry: { attempts: 2, backoffMs: 1 } } },
    n: 1500,
    topicOf: (i) => `in/${TOPICS[i % TOPICS.length]}`,
    fault,
    killAfterAcks: 500,
    cuts: { drop: 100, more: [200, 400, 600] },
    asLambkin,
    check: countedOnceRetriedTopicsKept
  })
}

test('[retry + state + kill] SIGKILL mid-burst, restart: every trigger once in the cloud, once in ctx.state, retried, published', async () => {
  await burst('kill')
})

// Skipped: against aedes as it comes it failed in about one run of three to six (138 to 572
// results stored twice): aedes resends without DUP and after a message routed during the
// reconnect, so copies whose PUBACK the agent wrote and the link lost (the PUBACKs this test
// drops) run again (docs/durability.md, "A link blip"; processed-once-aedes-resend.test.ts in
// test/device makes it happen in every run without those rules). The case below has them.
test.skip('[retry + state + link cuts] PUBACKs lost, then the trigger link cut four times mid-burst: every trigger once in the cloud, once in ctx.state, published', async () => {
  await burst('cuts')
})

// The same cuts with the trigger broker resending as lambkin's own brokers do (DUP 1 on every
// resend, resends before new messages): every copy is known by its DUP flag wherever it comes.
test('[retry + state + link cuts, lambkin aedes] PUBACKs lost, then the trigger link cut four times mid-burst, the broker resending with DUP: every trigger once in the cloud, once in ctx.state, published', async () => {
  await burst('cuts', true)
})

test.run()

// A function cannot publish outside its permissions (docs/functions.md, permissions.publish;
// DESIGN section 6), also now that the sandbox prelude remembers the last 4 topics it let
// through (src/sandbox/prelude.ts) and the worker the last one (src/sandbox/output-check.ts).
// A real `lambkin device` runs a function that, call after call, rotates through more allowed
// topics than the prelude remembers and refused ones that look like them: a path-looking
// `bench/out/../x`, unicode look-alikes, a String object, an object whose toString() answers
// an allowed topic, and a topic a getter changes between calls. Every refused topic stays
// refused on every call, every allowed one passes every time, and aedes sees nothing else.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { readOutbox, startBroker, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'

const DEVICE = 'topics-01'
const CALLS = 30
const ALLOWED = ['bench/out', 'ok/a', 'ok/b', 'ok/c', 'ok/d', 'ok/e']
const REFUSED = ['bench/out/../x', 'bench/\u03bfut', 'bench/out\u200b', 'b\u0435nch/out', 'ok/a/b', 'bench/secret', 'obj:String', 'obj:toString']

const CODE = `
let calls = 0
const box = { get t () { return calls % 2 === 0 ? 'bench/secret' : 'bench/out' } }
const trick = { toString () { return 'bench/out' } }
const plain = ${JSON.stringify([...ALLOWED, ...REFUSED.filter((t) => !t.startsWith('obj:'))])}
export default (e, ctx) => {
  calls++
  const list = plain.map((t) => [t, t])
  list.push(['obj:String', new String('bench/out')], ['obj:toString', trick], ['getter:' + box.t, box.t])
  // A different order each call, so each topic meets the remembered ones in another state.
  const k = e.payload.id % list.length
  const order = list.slice(k).concat(list.slice(0, k))
  const out = {}
  for (const [label, topic] of order) {
    try { ctx.publish(topic, label, { qos: 0 }); out[label] = 'ok' } catch (err) { out[label] = err.code || 'error' }
  }
  return out
}
`

test('refused publish topics stay refused on every call while the prelude remembers allowed ones: ../, look-alikes, String objects, toString(), a getter', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-topics-'))
  const data = path.join(root, 'data')
  const functions = writeFunctions(path.join(root, 'functions'), {
    rotate: { manifest: { triggers: [{ mqtt: 'go/+', qos: 1 }], permissions: { publish: ['bench/out', 'ok/+'] } }, code: CODE }
  })
  const broker = await startBroker()
  const seen = new Map<string, number>()
  broker.broker.on('publish', (packet, client) => {
    if (client?.id === `lambkin-${DEVICE}`) seen.set(packet.topic, (seen.get(packet.topic) ?? 0) + 1)
  })
  let acks = 0
  broker.broker.on('ack', (_p, client) => { if (client?.id === `lambkin-${DEVICE}`) acks++ })
  const agent = startLambkin(['device', '--id', DEVICE, '--data', data, '--functions', functions, '--mqtt', broker.url, '--quiet'])
  let publisher: mqtt.MqttClient | undefined
  try {
    await agent.waitFor('stdout', /ready/, 60_000)
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'topics-publisher', reconnectPeriod: 0 })
    for (let i = 0; i < CALLS; i++) await publisher.publishAsync('go/x', JSON.stringify({ id: i }), { qos: 1 })
    const end = Date.now() + 60_000
    while (acks < CALLS && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50))
    assert.is(acks, CALLS)
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null }, agent.stderr().slice(-2000))

    const results = (await readOutbox(data)).records.filter((r) => r.kind === 'result').map((r) => r.data.result as Record<string, string>)
    assert.is(results.length, CALLS, JSON.stringify((await readOutbox(data)).records.filter((r) => r.kind === 'dead-letter').slice(0, 2)))
    const verdicts = new Map<string, Set<string>>()
    for (const r of results) for (const [label, v] of Object.entries(r)) verdicts.set(label, (verdicts.get(label) ?? new Set()).add(v))
    const table = Object.fromEntries([...verdicts].map(([l, v]) => [l, [...v].join('|')]))
    for (const t of ALLOWED) assert.is(table[t], 'ok', `${t}: ${JSON.stringify(table)}`)
    for (const t of REFUSED) assert.ok(table[t] !== undefined && !verdicts.get(t)?.has('ok'), `${t} refused every time: ${JSON.stringify(table)}`)
    assert.is(table['getter:bench/out'], 'ok')
    assert.not.ok(verdicts.get('getter:bench/secret')?.has('ok'), JSON.stringify(table))
    // What the broker saw: only granted topics, each as often as the function was let publish it.
    const outside = [...seen.keys()].filter((t) => t !== 'bench/out' && !/^ok\/[^/]+$/.test(t))
    assert.equal(outside, [], 'no publish outside permissions.publish reached the broker')
    for (const t of ALLOWED.slice(1)) assert.is(seen.get(t), CALLS, t)
    console.log(`publish topics: ${JSON.stringify(table)}; broker saw ${JSON.stringify(Object.fromEntries(seen))}`)
  } finally {
    await publisher?.endAsync(true)
    await agent.stop('SIGKILL')
    await broker.close()
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

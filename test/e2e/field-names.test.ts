// Hostile names where the field puts them (DESIGN: hostile names): MQTT topics named like
// Object.prototype's members (`__proto__`, `constructor`, `toString`), unicode and very long
// topics, as a trigger filter, an incoming topic, a publish topic, a state key, a log line and an
// emitted record, on a real agent (aedes, QuickJS, LevelDB) uploading to a real `lambkin cloud`,
// read back through the operator API and commands; and a function with the longest name the id
// rule allows, deployed as a signed bundle. Every message must end as one result in the cloud.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import mqtt from 'mqtt'
import { deployWorld, until } from './fixtures/deploy-world.js'
import type { DeployWorld, WorldAgent } from './fixtures/deploy-world.js'

const LONG = 'l'.repeat(4000)
const TOPICS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'capteurs/é/🌡', `long/${LONG}`, 'valueOf/__proto__']
const LONG_NAME = `f${'x'.repeat(62)}`

let w: DeployWorld
let a: WorldAgent | undefined

test.before(async () => {
  w = await deployWorld()
})

test.after(async () => {
  await a?.stop()
  await w?.cleanup()
})

interface Rec { seq: number, kind: string, fn?: string, data: Record<string, unknown> }

const code = `export default (e, ctx) => {
  const k = e.topic
  const s = ctx.state
  const before = Object.prototype.hasOwnProperty.call(s, k) ? s[k] : 0
  Object.defineProperty(s, k, { value: before + 1, enumerable: true, writable: true, configurable: true })
  ctx.log('got ' + k + ' ✓')
  ctx.publish('out/' + k, { n: s[k] }, { qos: 1 })
  ctx.emit({ topic: k, n: s[k] })
  return { topic: k, n: s[k], id: e.payload.id }
}`

test('topics named __proto__, constructor, toString, unicode and 4,000 characters long trigger, publish, keep state, log and upload once each', async () => {
  const secret = await w.addDevice('names-01', 'names')
  a = w.agent('names-01', secret, { brokerPort: 0 })
  const fnDir = path.join(path.dirname(a.dataDir), 'functions', 'hostile')
  mkdirSync(fnDir, { recursive: true })
  writeFileSync(path.join(fnDir, 'function.json'), JSON.stringify({
    name: 'hostile',
    triggers: TOPICS.map((t) => ({ mqtt: t, qos: 1 })),
    permissions: { publish: ['out/#'] }
  }))
  writeFileSync(path.join(fnDir, 'index.js'), code)
  const agent = await a.start()
  const out = await mqtt.connectAsync(agent.brokerUrl as string, { clientId: 'names-watch' })
  const published: string[] = []
  out.on('message', (t) => published.push(t))
  await out.subscribeAsync('out/#', { qos: 1 })
  const pub = await mqtt.connectAsync(agent.brokerUrl as string, { clientId: 'names-pub' })
  let id = 0
  for (let round = 0; round < 2; round++) {
    for (const t of TOPICS) await pub.publishAsync(t, JSON.stringify({ id: id++ }), { qos: 1 })
  }
  await pub.endAsync()
  const want = TOPICS.length * 2
  const all = async (): Promise<Rec[]> => (await w.api<{ records: Rec[] }>('GET', '/v1/devices/names-01/records?after=0&limit=10000')).body.records
  await until('every result in the cloud', async () => (await all()).filter((r) => r.kind === 'result').length >= want, 60_000)
  await until('every publish seen', () => published.length >= want)
  await out.endAsync()
  const recs = await all()
  const results = recs.filter((r) => r.kind === 'result').map((r) => (r.data as { result: { topic: string, n: number, id: number } }).result)
  assert.is(results.length, want, 'one result per message')
  assert.equal(results.map((r) => r.id).sort((x, y) => x - y), Array.from({ length: want }, (_, i) => i))
  for (const t of TOPICS) {
    assert.equal(results.filter((r) => r.topic === t).map((r) => r.n).sort(), [1, 2], `state counted once per message on ${t.slice(0, 40)}`)
  }
  assert.equal([...new Set(published)].sort(), TOPICS.map((t) => `out/${t}`).sort())
  const logs = recs.filter((r) => r.kind === 'log')
  for (const t of TOPICS) assert.ok(logs.some((r) => JSON.stringify(r.data).includes(`got ${t} ✓`)), `a log line naming ${t.slice(0, 40)}`)
  const emits = recs.filter((r) => r.kind === 'emit')
  assert.is(emits.length, want, 'one emit per message')
  const cli = await w.lambkin(['results', 'names-01', 'hostile', '--limit', '100'])
  assert.is(cli.code, 0, cli.stderr)
  assert.match(cli.stdout, /__proto__/)
  const logCli = await w.lambkin(['logs', 'names-01', 'hostile', '--limit', '100'])
  assert.is(logCli.code, 0, logCli.stderr)
  assert.match(logCli.stdout, /got capteurs\/é\/🌡 ✓/)
})

test('a function with the longest name the id rule allows, triggered on __proto__, deploys and runs', async () => {
  const fn = w.fn(LONG_NAME, 'export default (e) => ({ topic: e.topic, long: true })', { triggers: [{ mqtt: '__proto__', qos: 1 }, { mqtt: 'constructor/#', qos: 1 }] })
  const r = await w.lambkin(['deploy', fn, '--to', 'group:names', '--timeout', '40'], 60_000)
  assert.is(r.code, 0, `deploy: ${r.stderr}${r.stdout}`)
  const agent = a?.agent
  assert.ok(agent !== undefined)
  const pub = await mqtt.connectAsync(agent.brokerUrl as string, { clientId: 'names-pub-2' })
  await pub.publishAsync('__proto__', '{}', { qos: 1 })
  await pub.publishAsync('constructor/x', '{}', { qos: 1 })
  await pub.endAsync()
  const mine = async (): Promise<Rec[]> => (await w.api<{ records: Rec[] }>('GET', `/v1/devices/names-01/records?after=0&limit=10000&fn=${LONG_NAME}`)).body.records.filter((x) => x.kind === 'result' && x.fn === LONG_NAME)
  await until('both results of the long-named function', async () => (await mine()).length >= 2, 30_000)
  assert.equal((await mine()).map((x) => (x.data as { result: { topic: string } }).result.topic).sort(), ['__proto__', 'constructor/x'])
  const inv = await w.lambkin(['invoke', '--device', 'names-01', LONG_NAME, '--event', '{"topic":"toString"}'])
  assert.is(inv.code, 0, inv.stderr)
  const m = await w.lambkin(['metrics', 'names-01', LONG_NAME])
  assert.is(m.code, 0, m.stderr)
})

test('a bundle whose modules have unicode and 200-character file names, and unicode env values, deploys and runs', async () => {
  const long = 'm'.repeat(200)
  const fn = w.fn('unicode-files', `import { v } from './données-ünï-🌡.js'\nimport { n } from './${long}.js'\nexport default (e, ctx) => ({ v, n, env: ctx.env.CLE })\n`, { env: { CLE: 'välue ✓' } })
  writeFileSync(path.join(fn, 'données-ünï-🌡.js'), 'export const v = "ok ü"\n')
  writeFileSync(path.join(fn, `${long}.js`), 'export const n = 200\n')
  const r = await w.lambkin(['deploy', fn, '--to', 'names-01', '--timeout', '40'], 60_000)
  assert.is(r.code, 0, `deploy: ${r.stderr}${r.stdout}`)
  const inv = await w.lambkin(['invoke', '--device', 'names-01', 'unicode-files', '--json'])
  assert.is(inv.code, 0, inv.stderr)
  assert.equal((JSON.parse(inv.stdout) as { result: unknown }).result, { v: 'ok ü', n: 200, env: 'välue ✓' })
})

test.run()

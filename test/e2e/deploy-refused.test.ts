// What must never run is refused, reported with its code, and the running version keeps
// running: at the cloud (an upload with a bad signature, an untrusted key, bytes that do not
// hash to their name) and on the board, with bytes altered between the real cloud and a real
// agent by an MQTT tap (a flipped signature byte, a flipped code byte, an old desired state
// replayed) and a key the cloud trusts but the board does not [W5][W6].
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeys, packBundle, readSigningKey, signBundle } from '../../src/bundle/index.js'
import { loadFunctionDir } from '../../src/function/index.js'
import { decodeFrame, upTopic } from '../../src/wire/index.js'
import { deployWorld, jsonLines, until } from './fixtures/deploy-world.js'
import type { DeployWorld, WorldAgent } from './fixtures/deploy-world.js'
import { startTap } from './fixtures/mqtt-tap.js'
import type { MqttTap } from './fixtures/mqtt-tap.js'
import type { RolloutView } from '../../cli/rollout-view.js'

let w: DeployWorld
let tap: MqttTap
let other: ReturnType<typeof generateKeys>
let otherDir: string | undefined
const agents: Record<string, WorldAgent> = {}

/** The version a device runs, asked through the cloud [W7]. */
async function runs (id: string): Promise<unknown> {
  const r = await w.lambkin(['invoke', '--device', id, 'greeter', '--json'])
  return (JSON.parse(r.stdout) as { result?: { v?: number } }).result?.v
}

/** Every up/reported frame the tap saw from `id`, decoded. */
function reports (id: string): Array<{ deploymentId: number, failures: Array<{ code: string, deploymentId: number }> }> {
  return tap.publishes.filter((p) => p.dir === 'up' && p.topic === upTopic(id, 'reported')).map((p) => decodeFrame(p.payload, 1 << 20) as never)
}

async function deploy (
  version: number,
  to: string,
  extra: string[] = []
): Promise<{ code: number | null; end: Record<string, unknown>; stderr: string; sha256: string }> {
  const dir = w.fn('greeter', `export default () => ({ v: ${version}, marker: "TAMPER-ME-${version}" })`)
  const { sha256 } = packBundle(await loadFunctionDir(dir))
  const r = await w.lambkin(['deploy', dir, '--to', to, '--timeout', '20', '--json', ...extra])
  const lines = jsonLines(r.stdout)
  return { code: r.code, end: lines[lines.length - 1] ?? {}, stderr: r.stderr, sha256 }
}

test.before(async () => {
  otherDir = mkdtempSync(path.join(tmpdir(), 'lambkin-other-key-'))
  other = generateKeys(otherDir)
  w = await deployWorld({ extraTrust: [other.publicFile] })
  const [host, port] = new URL(w.brokerUrl).host.split(':')
  tap = await startTap({ host, port: Number(port) })
  for (const id of ['sig', 'bytes', 'replay', 'key']) {
    // Each board trusts only the first key; all talk to the cloud through the tap.
    agents[id] = w.agent(id, await w.addDevice(id, 'refusals'), { cloud: { url: tap.url } })
    await agents[id].start()
  }
  const first = await deploy(1, 'group:refusals')
  assert.is(first.code, 0, first.stderr)
})

test.after(async () => {
  await w?.cleanup()
  await tap?.close()
  if (otherDir !== undefined) rmSync(otherDir, { recursive: true, force: true })
})

test('the cloud refuses an upload signed by an unknown key, with a bad signature, or whose bytes were altered', async () => {
  const stranger = generateKeys(path.join(w.root, 'stranger'))
  const dir = w.fn('greeter', 'export default () => ({ v: 99 })')
  const r = await w.lambkin(['deploy', dir, '--to', 'sig', '--key', stranger.privateFile])
  assert.is(r.code, 1)
  assert.match(r.stderr, /^LAMBKIN_KEY_UNTRUSTED: /)

  const packed = packBundle(await loadFunctionDir(dir))
  const sig = signBundle(packed.sha256, readSigningKey(w.key.privateFile))
  const bad = Buffer.from(sig.signature)
  bad[5] ^= 1
  const badSig = await w.api<{ error: { code: string } }>('POST', '/v1/bundles', { bundle: packed.bytes.toString('base64'), sha256: packed.sha256, signature: bad.toString('base64'), keyId: sig.keyId })
  assert.is(badSig.status, 400)
  assert.is(badSig.body.error.code, 'LAMBKIN_SIGNATURE_INVALID')
  const altered = Buffer.from(packed.bytes)
  altered[altered.length - 3] ^= 1
  const badBytes = await w.api<{ error: { code: string } }>('POST', '/v1/bundles', { bundle: altered.toString('base64'), sha256: packed.sha256, signature: Buffer.from(sig.signature).toString('base64'), keyId: sig.keyId })
  assert.is(badBytes.status, 400)
  assert.is(badBytes.body.error.code, 'LAMBKIN_BUNDLE_INVALID')
  assert.is(await runs('sig'), 1, 'nothing reached the board')
})

test('[W5][W6] a desired state whose bundle signature was altered on the way is refused by the board (its own signature covers it), which says why and keeps its version', async () => {
  const dir = w.fn('greeter', 'export default () => ({ v: 2, marker: "TAMPER-ME-2" })')
  const { sha256 } = packBundle(await loadFunctionDir(dir))
  const sig = Buffer.from(signBundle(sha256, readSigningKey(w.key.privateFile)).signature)
  tap.onDown = (p) => {
    const at = p.payload.indexOf(sig)
    if (p.device === 'sig' && p.topic.endsWith('/down/desired') && at >= 0) p.payload[at + 10] ^= 0x01
  }
  const r = await deploy(2, 'sig')
  tap.onDown = undefined
  assert.is(r.code, 1)
  assert.is(r.end.code, 'LAMBKIN_SIGNATURE_INVALID')
  assert.is(await runs('sig'), 1)
})

test('[W6] bundle bytes altered on the way are refused by their hash; the board keeps its version', async () => {
  tap.onDown = (p) => {
    const at = p.payload.indexOf('TAMPER-ME-3')
    if (p.device === 'bytes' && p.topic.endsWith('/down/bundle') && at >= 0) p.payload[at] = 'X'.charCodeAt(0)
  }
  const r = await deploy(3, 'bytes')
  tap.onDown = undefined
  assert.is(r.code, 1)
  assert.is(r.end.code, 'LAMBKIN_BUNDLE_INVALID')
  assert.is(await runs('bytes'), 1)
})

test('[W6] a bundle signed by a key the cloud trusts but the board does not is refused with LAMBKIN_KEY_UNTRUSTED', async () => {
  const r = await deploy(4, 'key', ['--key', other.privateFile])
  assert.is(r.code, 1)
  assert.is(r.end.code, 'LAMBKIN_KEY_UNTRUSTED')
  const view = await w.rollout(String(r.end.rollout))
  assert.equal(view.devices.map((d) => [d.id, d.state, d.code]), [['key', 'failed', 'LAMBKIN_KEY_UNTRUSTED']])
  assert.is(await runs('key'), 1)
})

test('[W5] an old desired state replayed to the board is refused as LAMBKIN_DEPLOYMENT_STALE and the newer version keeps running', async () => {
  const old = tap.publishes.find((p) => p.dir === 'down' && p.device === 'replay' && p.topic.endsWith('/down/desired'))
  assert.ok(old !== undefined, 'the first deployment\'s desired state was seen')
  const r = await deploy(5, 'replay')
  assert.is(r.code, 0, r.stderr)
  assert.is(await runs('replay'), 5)
  const newer = (await w.rollout(String(r.end.rollout))).devices[0].deploymentId ?? Number.MAX_SAFE_INTEGER
  assert.ok((decodeFrame(old.payload, 1 << 20) as { deploymentId: number }).deploymentId < newer, 'the replayed frame is older')
  // The same frame again, as QoS 0 (MQTT 3.1.1 section 3.3.1: no packet id), not retained.
  const topic = Buffer.from(old.topic)
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, old.payload])
  const len: number[] = []
  for (let n = body.length; ;) { const b = n % 128; n = Math.floor(n / 128); len.push(n > 0 ? b | 0x80 : b); if (n === 0) break }
  assert.ok(tap.inject('replay', Buffer.concat([Buffer.from([0x30, ...len]), body])))
  await until('the refusal to be reported', () => reports('replay').some((f) => f.failures.some((x) => x.code === 'LAMBKIN_DEPLOYMENT_STALE')))
  assert.is(await runs('replay'), 5)
  const views = (await w.api<{ rollouts: RolloutView[] }>('GET', '/v1/rollouts?limit=1')).body.rollouts
  assert.is(views[0].devices[0].state, 'applied', 'the newer rollout stays applied')
})

test.run()

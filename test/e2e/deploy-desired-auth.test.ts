// Desired state authenticated end to end [W5]: a relay on a plain mqtt:// link between the real
// cloud and a real agent (a TCP tap that can rewrite and inject MQTT packets) takes the cloud's
// signed frames and (a) pairs an old signed desired state with a new deployment id, to roll the
// board back to an old signed version, (b) sets the deployment id to 2^53-1, to refuse every
// later deployment, (c) strips the signature. The board refuses each, counted by code, keeps
// what it runs and its deployment id, and the next real deployment applies.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeFrame, downTopic, encodeFrame, upTopic } from '../../src/wire/index.js'
import { deployWorld, jsonLines, until } from './fixtures/deploy-world.js'
import type { DeployWorld, WorldAgent } from './fixtures/deploy-world.js'
import { startTap } from './fixtures/mqtt-tap.js'
import type { MqttTap } from './fixtures/mqtt-tap.js'

let w: DeployWorld
let tap: MqttTap
let board: WorldAgent
const ID = 'relayed'

async function deploy (version: number): Promise<{ code: number | null, deploymentId: number, stderr: string }> {
  const dir = w.fn('greeter', `export default () => ({ v: ${version} })`)
  const r = await w.lambkin(['deploy', dir, '--to', ID, '--timeout', '20', '--json'])
  const end = jsonLines(r.stdout).at(-1) ?? {}
  const view = await w.rollout(String(end.rollout))
  return { code: r.code, deploymentId: view.devices[0]?.deploymentId ?? -1, stderr: r.stderr }
}

async function runs (): Promise<unknown> {
  const r = await w.lambkin(['invoke', '--device', ID, 'greeter', '--json'])
  return (JSON.parse(r.stdout) as { result?: { v?: number } }).result?.v
}

/** A QoS 0 PUBLISH of `frame` on the board's down/desired, as the broker would send it (MQTT 3.1.1 section 3.3). */
function desiredPacket (frame: Record<string, unknown>): Buffer {
  const topic = Buffer.from(downTopic(ID, 'desired'))
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, encodeFrame(frame)])
  const len: number[] = []
  for (let n = body.length; ;) { const b = n % 128; n = Math.floor(n / 128); len.push(n > 0 ? b | 0x80 : b); if (n === 0) break }
  return Buffer.concat([Buffer.from([0x30, ...len]), body])
}

/** Every down/desired the tap saw for the board, decoded, oldest first. */
const desiredSeen = (): Array<Record<string, unknown> & { deploymentId: number }> =>
  tap.publishes.filter((p) => p.dir === 'down' && p.topic === downTopic(ID, 'desired')).map((p) => decodeFrame(p.payload, 1 << 20) as never)

/** The board's count of refused desired states with `code`. */
function refusedCount (code: string): number {
  const m = new RegExp(`lambkin_desired_refused_total\\{code="${code}"\\} (\\d+)`).exec(board.agent?.metrics.toPrometheus() ?? '')
  return m === null ? 0 : Number(m[1])
}

/** Injects `frame` and waits until the board counted it refused with `code`. */
async function inject (frame: Record<string, unknown>, code: string): Promise<void> {
  const before = refusedCount(code)
  assert.ok(tap.inject(ID, desiredPacket(frame)), 'the board is connected through the tap')
  await until(`the board to refuse it with ${code}`, () => refusedCount(code) > before)
}

test.before(async () => {
  w = await deployWorld()
  const [host, port] = new URL(w.brokerUrl).host.split(':')
  tap = await startTap({ host, port: Number(port) })
  board = w.agent(ID, await w.addDevice(ID), { cloud: { url: tap.url } })
  await board.start()
})

test.after(async () => {
  await w?.cleanup()
  await tap?.close()
})

test('[W5] the cloud signs each device\'s desired state with its key, made on first start; the board trusts it beside the deploy key', async () => {
  const first = await deploy(1)
  assert.is(first.code, 0, first.stderr)
  const seen = desiredSeen().at(-1) as { auth?: { keyId: string, signature: Uint8Array } }
  assert.ok(seen.auth !== undefined && seen.auth.signature.byteLength === 64)
  const status = await w.api<{ cloud: { deploy: { signingKeyId: string } } }>('GET', '/v1/status')
  assert.is(seen.auth.keyId, status.body.cloud.deploy.signingKeyId)
})

test('[W5] a relay cannot roll the board back with an old signed state under a new id, nor push its id to 2^53-1, nor strip the signature; a real deployment after them applies', async () => {
  const second = await deploy(2)
  assert.is(second.code, 0, second.stderr)
  assert.is(await runs(), 2)
  const frames = desiredSeen()
  const old = frames.find((f) => f.deploymentId < second.deploymentId && JSON.stringify(f.functions).length > 2) as Record<string, unknown>
  const current = frames.at(-1) as Record<string, unknown>
  // (a) The old version's signed state, renumbered to pass the id check.
  await inject({ ...old, deploymentId: second.deploymentId + 1 }, 'LAMBKIN_SIGNATURE_INVALID')
  // (b) The current state with the largest id there is.
  await inject({ ...current, deploymentId: Number.MAX_SAFE_INTEGER }, 'LAMBKIN_SIGNATURE_INVALID')
  // (c) Unsigned, with a new id.
  const { auth: _auth, ...unsigned } = old
  await inject({ ...unsigned, deploymentId: second.deploymentId + 2 }, 'LAMBKIN_DESIRED_UNSIGNED')
  assert.is(await runs(), 2, 'the board still runs version 2')
  assert.is(board.agent?.deployer?.active.deploymentId, second.deploymentId, 'its deployment id did not move')
  const reports = tap.publishes.filter((p) => p.dir === 'up' && p.topic === upTopic(ID, 'reported')).map((p) => decodeFrame(p.payload, 1 << 20) as { deploymentId: number })
  assert.ok(reports.every((r) => r.deploymentId <= second.deploymentId), 'no report claims a forged id')
  const third = await deploy(3)
  assert.is(third.code, 0, third.stderr)
  assert.is(await runs(), 3)
})

test.run()

// The peers bench/relay runs the threshold job in, each as a process of its own started
// as a user would start it: a bare MQTT.js client, the floor of lambkin's guarantees built from
// its parts (floor-relay.ts), Node-RED 4 with an `mqtt in` -> `function`
// -> `mqtt out` flow (installed on demand by scripts/bench-peers.sh), and `lambkin device --mqtt`.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './mosquitto.js'
import { Cloud } from '../../cloud-sync/index.js'
import { GENERATED_SECRET_PARAMS, hashPassword } from '../../src/secrets.js'
import { planRuntime } from '../../cli/node-runtime.js'

const THRESHOLD = 25

/** Node-RED's entry point in its scratch install (bench/peers/node-red, scripts/bench-peers.sh). */
export const NODE_RED = fileURLToPath(new URL('../../../bench/peers/node-red/node_modules/node-red/red.js', import.meta.url))
const CLI = fileURLToPath(new URL('../../cli/bin.js', import.meta.url))
const RELAY = fileURLToPath(new URL('./bare-relay.js', import.meta.url))
const FLOOR = fileURLToPath(new URL('./floor-relay.js', import.meta.url))

export interface Peer { proc: ChildProcess, stop: () => Promise<void> }

/** Extra Node flags for the peer, e.g. BENCH_PEER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
const flags = (): string[] => (process.env.BENCH_PEER_FLAGS ?? '').split(' ').filter((f) => f !== '')

function start (args: string[], dir: string | undefined, env: Record<string, string> = {}, after?: () => Promise<void>): Peer {
  const proc = spawn(process.execPath, [...flags(), ...args], { stdio: ['ignore', 'ignore', process.env.BENCH_VERBOSE === '1' ? 'inherit' : 'ignore'], env: { ...process.env, ...env } })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  return {
    proc,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      const killer = setTimeout(() => proc.kill('SIGKILL'), 30_000)
      await exited
      clearTimeout(killer)
      await after?.()
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    }
  }
}

export function bareRelay (url: string): Peer {
  return start([RELAY, url], undefined)
}

/**
 * The floor of the guarantees (floor-relay.ts), its LevelDB in a temp folder; `variant` is
 * FLOOR_INLINE=1 (QuickJS on the main thread) or FLOOR_NOCOMMIT=1 (no LevelDB), or neither.
 */
export function floorRelay (url: string, variant: Record<string, string> = {}): Peer {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-floor-'))
  return start([FLOOR, url, path.join(dir, 'db')], dir, variant)
}

/** Node-RED 4 with its default settings.js in a temp userDir and the flow as flows.json. */
export async function nodeRed (url: string): Promise<Peer> {
  if (!existsSync(NODE_RED)) throw new Error('Node-RED is not installed: run scripts/bench-peers.sh')
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-node-red-'))
  const { hostname, port } = new URL(url)
  const flow = [
    { id: 'tab1', type: 'tab', label: 'bench' },
    // The broker node as the editor makes it by default, apart from the address.
    { id: 'broker1', type: 'mqtt-broker', name: 'bench', broker: hostname, port, clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true, autoUnsubscribe: true, birthTopic: '', closeTopic: '', willTopic: '' },
    { id: 'in1', type: 'mqtt in', z: 'tab1', name: '', topic: 'bench/in/+', qos: '1', datatype: 'json', broker: 'broker1', nl: false, rap: true, rh: 0, inputs: 0, wires: [['fn1']] },
    { id: 'fn1', type: 'function', z: 'tab1', name: 'threshold', func: `if (msg.payload.value > ${THRESHOLD}) return { topic: 'bench/out', payload: msg.payload }\nreturn null`, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['out1']] },
    { id: 'out1', type: 'mqtt out', z: 'tab1', name: '', topic: '', qos: '1', retain: 'false', respTopic: '', contentType: '', userProps: '', correl: '', expiry: '', broker: 'broker1', wires: [] }
  ]
  writeFileSync(path.join(dir, 'flows.json'), JSON.stringify(flow))
  return start([NODE_RED, '--userDir', dir, '--port', String(await freePort()), 'flows.json'], dir)
}

/**
 * `lambkin device --mqtt <url>` with one function, its publish at `qos`, uploading its outbox
 * (a result record per message) to a `lambkin cloud` started here, as a fleet's board would
 * (the figures include the upload, as docs/performance.md, "The relay job", reports them). BENCH_CLOUD=0 leaves the cloud out.
 */
export async function lambkin (url: string, qos: 0 | 1): Promise<Peer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-agent-'))
  const fn = path.join(dir, 'functions', 'threshold')
  mkdirSync(fn, { recursive: true })
  writeFileSync(path.join(fn, 'function.json'), JSON.stringify({ name: 'threshold', triggers: [{ mqtt: 'bench/in/+', qos: 1 }], permissions: { publish: ['bench/out'] } }))
  writeFileSync(path.join(fn, 'index.js'), `export default (event, ctx) => { if (event.payload.value > ${THRESHOLD}) ctx.publish('bench/out', event.payload, { qos: ${qos} }) }\n`)
  // Node's flags and malloc settings of the memory profile (LAMBKIN_MEMORY) given to Node up
  // front, as the systemd unit and the arm64 image do on a board, so no re-run parent waits
  // beside the agent (on Node 20 it would hold about 43 MiB of the process tree's RSS).
  const plan = planRuntime({ arch: process.arch, env: process.env, execArgv: flags() })
  const args = [...plan.flags, CLI, 'device', '--id', 'bench', '--data', path.join(dir, 'data'), '--functions', path.join(dir, 'functions'), '--mqtt', url, '--quiet']
  if (process.env.BENCH_CLOUD === '0') return start(args, dir, plan.env)
  const secret = 'bench-secret-0123456789abcdefghijklmnop'
  const cloud = await Cloud.create({ dataDir: path.join(dir, 'cloud'), port: 0, apiPort: 0 })
  await cloud.registry.addDevice({ id: 'bench', secretHash: await hashPassword(secret, GENERATED_SECRET_PARAMS), createdAt: Date.now() })
  return start([...args, '--cloud', cloud.broker.url], dir, { ...plan.env, LAMBKIN_CLOUD_PASSWORD: secret }, async () => { await cloud.close() })
}

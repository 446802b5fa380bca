// bench/cloud deploy: one function deployed to 100 real agents (20 per process, each with its
// own LevelDB and sandbox), timed from the deploy's first API call (upload) to the rollout
// `done` with all 100 applied, as `lambkin deploy` makes them; then the `lambkin deploy`
// command itself, end to end. Bytes per device are counted on the wire in front of the cloud
// broker (bench/cloud/mqtt-meter.ts): down/desired + down/bundle + up/fetch + up/reported.
// Alone: `node dist/bench/cloud/deploy.js`; with --json the last line is the numbers.
import { spawn, execFile } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Cloud } from '../../cloud-sync/index.js'
import { operatorToken } from '../../cloud-sync/cloud.js'
import { generateKeys, packBundle, readSigningKey, signBundle } from '../../src/bundle/index.js'
import { loadFunctionDir } from '../../src/function/index.js'
import { GENERATED_SECRET_PARAMS, hashPassword } from '../../src/secrets.js'
import { startMeter } from './mqtt-meter.js'
import type { MqttMeter } from './mqtt-meter.js'

const AGENTS = fileURLToPath(new URL('./agents.js', import.meta.url))
const BIN = fileURLToPath(new URL('../../cli/bin.js', import.meta.url))
const DEVICES = 100
const PER_PROCESS = 20
const RUNS = 3
const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuv'
const KINDS = ['down/desired', 'down/bundle', 'up/fetch', 'up/reported']
const json = process.argv.includes('--json')
const say = (s: string): void => { if (!json) console.log(s) }

interface View { id: string, state: string, revision: number, createdAt: number, counts: { applied: number, total: number }, devices: Array<{ at?: number }> }

const root = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-deploy-'))
const children: ChildProcess[] = []
const key = generateKeys(path.join(root, 'keys'))
const cloud = await Cloud.create({ dataDir: path.join(root, 'cloud'), port: 0, apiPort: 0, trustedKeys: [key.publicFile] })
let meter: MqttMeter | undefined
try {
  const token = operatorToken(path.join(root, 'cloud')).token
  const api = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${cloud.api.url}${route}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })
    const out = await res.json() as T
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(out)}`)
    return out
  }
  const m = meter = await startMeter({ host: '127.0.0.1', port: cloud.broker.port ?? 0 })
  const hash = await hashPassword(SECRET, GENERATED_SECRET_PARAMS)
  const ids = Array.from({ length: DEVICES }, (_, i) => `bench-${String(i).padStart(3, '0')}`)
  for (const id of ids) await cloud.registry.addDevice({ id, group: 'bench', secretHash: hash, createdAt: Date.now() })

  await Promise.all(Array.from({ length: DEVICES / PER_PROCESS }, async (_, p) => {
    const devices = ids.slice(p * PER_PROCESS, (p + 1) * PER_PROCESS).map((id) => ({ id, secret: SECRET }))
    const child = spawn(process.execPath, ['--disable-wasm-trap-handler', AGENTS, JSON.stringify({ cloudUrl: m.url, trustedKeys: [key.publicFile, cloud.signing.publicFile], root: path.join(root, 'agents'), devices })], { stdio: ['ignore', 'pipe', 'inherit'] })
    children.push(child)
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('"started"')) resolve() })
      child.once('exit', (code) => reject(new Error(`agents process exited ${String(code)}`)))
    })
  }))
  const t = Date.now()
  while (cloud.broker.connected().length < DEVICES) {
    if (Date.now() - t > 60_000) throw new Error(`only ${cloud.broker.connected().length} of ${DEVICES} agents connected`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  say(`${DEVICES} agents in ${DEVICES / PER_PROCESS} processes connected`)

  const fnDir = (v: number): string => {
    const dir = path.join(root, 'fns', `v${v}`, 'bench-fn')
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, 'function.json'), JSON.stringify({ name: 'bench-fn' }))
    writeFileSync(path.join(dir, 'index.js'), `export default (e) => ({ version: ${v}, echo: e })\n`)
    return dir
  }
  const signing = readSigningKey(key.privateFile)
  const bytesPerDevice = (): Record<string, number> => {
    const sums: Record<string, number> = Object.fromEntries(KINDS.map((k) => [k, 0]))
    for (const per of m.bytes.values()) for (const k of KINDS) sums[k] += per.get(k) ?? 0
    return Object.fromEntries(KINDS.map((k) => [k, sums[k] / DEVICES]))
  }

  // The API calls `lambkin deploy` makes, after its local checks: upload, start, follow.
  const seconds: number[] = []
  let bytes: Record<string, number> = {}
  let bundleSize = 0
  for (let run = 1; run <= RUNS; run++) {
    const packed = packBundle(await loadFunctionDir(fnDir(run)))
    const sig = signBundle(packed.sha256, signing)
    m.reset()
    const t0 = performance.now()
    await api('POST', '/v1/bundles', { bundle: packed.bytes.toString('base64'), sha256: packed.sha256, signature: Buffer.from(sig.signature).toString('base64'), keyId: sig.keyId })
    let v = await api<View>('POST', '/v1/rollouts', { sha256: packed.sha256, to: 'group:bench' })
    while (v.state === 'running') v = await api<View>('GET', `/v1/rollouts/${v.id}?since=${v.revision}&wait=25000`)
    const s = (performance.now() - t0) / 1000
    if (v.state !== 'done' || v.counts.applied !== DEVICES) throw new Error(`rollout ended ${v.state} with ${v.counts.applied} of ${DEVICES} applied`)
    // Reports already on their way when the rollout closed are counted too.
    await new Promise((resolve) => setTimeout(resolve, 300))
    // When the last of each frame crossed the wire: where the time went (devices or cloud).
    const wire = KINDS.map((k) => `${k} ${(((m.lastAt.get(k) ?? t0) - t0) / 1000).toFixed(2)} s`).join(', ')
    const lat = v.devices.map((d) => ((d.at ?? v.createdAt) - v.createdAt) / 1000).sort((a, b) => a - b)
    const q = (p: number): string => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2)
    seconds.push(s)
    bytes = bytesPerDevice()
    bundleSize = packed.bytes.length
    say(`deploy ${run} (version ${run}, bundle ${packed.bytes.length} B) to ${DEVICES} agents: all applied in ${s.toFixed(3)} s (each device applied after p50 ${q(0.5)} s, p90 ${q(0.9)} s, last ${q(1)} s; last frame on the wire: ${wire}); per device ${KINDS.map((k) => `${k} ${bytes[k].toFixed(0)} B`).join(', ')}`)
  }

  // The command, as an operator runs it: Node start, manifest, sandbox compile, pack, sign, upload, follow.
  const t1 = performance.now()
  const out = await promisify(execFile)(process.execPath, ['--disable-wasm-trap-handler', BIN, 'deploy', fnDir(RUNS + 1), '--to', 'group:bench', '--json'], { env: { ...process.env, LAMBKIN_API: cloud.api.url, LAMBKIN_TOKEN: token, LAMBKIN_KEY: key.privateFile } })
  const command = (performance.now() - t1) / 1000
  const end = JSON.parse(out.stdout.trim().split('\n').pop() as string) as { ok: boolean, counts: { applied: number } }
  if (!end.ok || end.counts.applied !== DEVICES) throw new Error(`lambkin deploy ended ${JSON.stringify(end)}`)
  say(`lambkin deploy (the command, from its start to its exit) to ${DEVICES} agents: ${command.toFixed(3)} s`)

  const median = [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)]
  const total = KINDS.reduce((n, k) => n + bytes[k], 0)
  const summary = {
    devices: DEVICES,
    seconds: median,
    commandSeconds: command,
    bytesPerDevice: total,
    bundleBytes: bundleSize,
    ...Object.fromEntries(KINDS.map((k) => [k, bytes[k]]))
  }
  // The machine's load says how far the times are from an idle one.
  const load = `load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`
  say(load)
  if (json) console.log(JSON.stringify({ ...summary, loadAverage: loadavg()[0], cores: cpus().length }))
  else console.log(`deploy: ${DEVICES} real agents all applied in ${median.toFixed(3)} s (median of ${RUNS}; target < 2 s; ${load}), lambkin deploy command ${command.toFixed(2)} s end to end; ${total.toFixed(0)} B per device on the wire (bundle ${bundleSize} B)`)
} finally {
  for (const c of children) c.kill('SIGTERM')
  await Promise.all(children.map(async (c) => await new Promise((resolve) => { if (c.exitCode !== null) resolve(null); else c.once('exit', resolve) })))
  await meter?.close()
  await cloud.close()
  rmSync(root, { recursive: true, force: true })
}

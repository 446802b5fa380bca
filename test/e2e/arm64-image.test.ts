// The arm64 image (Dockerfile.arm64, built and exported by scripts/build-arm64-image.sh) run
// here: its entrypoint, with its environment, as its user, from its exported root file
// system, under qemu-aarch64 (binfmt_misc) in a chroot with private mounts for the data
// volume, the functions folder and the users file, as `docker run -v ... -p ...` would give
// them. The chroot shares this host's network, so LAMBKIN_BROKER_PORT picks a free port where
// `-p` would publish 1883. Skips with the reason when the exported root is absent, except in
// CI (CI set), where .ci/run builds it first.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { planRuntime, SMALL_RAM_ENV } from '../../cli/node-runtime.js'
import { hashPassword } from '../../src/secrets.js'
import { freePort } from '../helpers/brokers.js'
import { readOutbox, writeFunctions } from './fixtures/lambkin-process.js'

const IMAGE = path.join(process.env.LAMBKIN_CACHE ?? '/var/cache/lambkin-ci', 'arm64', 'current')
const ROOTFS = path.join(IMAGE, 'rootfs')

interface ImageConfig {
  entrypoint: string[]
  env: string[]
  workingDir: string
  user: string
  architecture: string
  sizeMiB: number
  node: string
  key: string
}

function skipReason (): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (chroot and private mounts)'
  if (!existsSync(path.join(IMAGE, 'image.json'))) return `no exported image at ${IMAGE}: run sudo scripts/build-arm64-image.sh`
  if (!existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64')) return 'binfmt_misc has no qemu-aarch64 entry: scripts/build-arm64-image.sh registers it (package qemu-user-static)'
  for (const tool of ['/usr/bin/unshare', '/usr/sbin/chroot']) if (!existsSync(tool)) return `${tool} is missing`
  return undefined
}

const reason = skipReason()
if (reason !== undefined) {
  if (process.env.CI !== undefined && process.env.CI !== '') throw new Error(`arm64 image test cannot run in CI: ${reason}`)
  console.log(`SKIP arm64-image.test: ${reason}`)
}
const image = reason === undefined ? JSON.parse(readFileSync(path.join(IMAGE, 'image.json'), 'utf8')) as ImageConfig : undefined

/** uid:gid of a user in the image's /etc/passwd. */
function userSpec (name: string): { uid: number, gid: number } {
  const line = readFileSync(path.join(ROOTFS, 'etc', 'passwd'), 'utf8').split('\n').find((l) => l.split(':')[0] === name)
  assert.ok(line, `no user ${name} in the image`)
  const [, , uid, gid] = (line as string).split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

interface Run {
  pid: number
  out: () => string
  err: () => string
  waitFor: (re: RegExp, ms: number) => Promise<void>
  exited: Promise<number | null>
  kill: (sig: NodeJS.Signals) => void
}

/**
 * Runs the image's entrypoint: mounts (private to this process) `mounts` (rootfs path -> host
 * path), then chroots as the image's user and execs the entrypoint with the image's env plus
 * `env`, in its working dir. Every step execs, so the returned pid is the agent's.
 */
function runImage (cfg: ImageConfig, mounts: Record<string, string>, env: Record<string, string>): Run {
  const { uid, gid } = userSpec(cfg.user)
  const q = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`
  const binds = Object.entries(mounts).map(([inside, host]) => `mount --bind ${q(host)} ${q(path.join(ROOTFS, inside))}`)
  const vars = [...cfg.env, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)]
  const script = [
    ...binds,
    `mount -t proc proc ${q(path.join(ROOTFS, 'proc'))}`,
    `mount --bind /dev ${q(path.join(ROOTFS, 'dev'))}`,
    `exec chroot --userspec=${uid}:${gid} ${q(ROOTFS)} /usr/bin/env -i -C ${q(cfg.workingDir)} ${vars.map(q).join(' ')} ${cfg.entrypoint.map(q).join(' ')}`
  ].join(' && ')
  const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const waitFor = async (re: RegExp, ms: number): Promise<void> => {
    const end = Date.now() + ms
    while (!re.test(out) && child.exitCode === null && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 100))
    assert.match(out, re, `not seen within ${ms} ms.\nstdout: ${out}\nstderr: ${err.slice(-3000)}`)
  }
  return { pid: child.pid as number, out: () => out, err: () => err, waitFor, exited, kill: (sig) => child.kill(sig) }
}

test('the image runs the agent in one Node started with the board flags, configured by variables alone', () => {
  if (image === undefined) return
  console.log(`      arm64 image ${image.key}: ${image.sizeMiB} MiB, Node ${image.node}`)
  assert.is(image.architecture, 'arm64')
  const board = planRuntime({ arch: 'arm64', env: {}, execArgv: [] })
  const node = image.entrypoint.slice(1, image.entrypoint.findIndex((a) => a.endsWith('bin.js')))
  assert.equal(node, board.flags, 'the entrypoint gives Node the flags bin.js would re-run it with')
  for (const [k, v] of Object.entries(SMALL_RAM_ENV)) assert.ok(image.env.includes(`${k}=${v}`), `${k}=${v} in the image's env`)
  // With all of them given, bin.js runs the agent itself: no second process.
  const env = Object.fromEntries(image.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
  assert.equal(planRuntime({ arch: 'arm64', env, execArgv: node }), { flags: [], env: {} })
  assert.not.ok(image.env.some((e) => e.startsWith('LAMBKIN_ID=')), 'the image must not fix a device id')
})

test('the entrypoint under qemu: the agent starts, takes a QoS 1 message from the host on the published port, runs the function, and keeps the result in the data volume', async () => {
  if (image === undefined) return
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-arm64-'))
  const data = path.join(root, 'data')
  const etc = path.join(root, 'etc')
  mkdirSync(data)
  mkdirSync(etc)
  const { uid, gid } = userSpec(image.user)
  chownSync(data, uid, gid)
  const functions = writeFunctions(path.join(root, 'functions'), {
    echo: {
      manifest: { triggers: [{ mqtt: 'in/#', qos: 1 }], permissions: { publish: ['out/#'] }, limits: { timeoutMs: 30_000 } },
      code: 'export default async (e, ctx) => { await ctx.publish("out/" + e.topic.split("/")[1], { got: e.payload, arch: "arm64" }, { qos: 1 }); return { doubled: e.payload.n * 2 } }'
    }
  })
  writeFileSync(path.join(etc, 'broker-users.json'), JSON.stringify([{ username: 'host', passwordHash: await hashPassword('host-secret'), publish: ['in/#'], subscribe: ['out/#'] }]))
  const port = await freePort()
  const agent = runImage(image, { data, functions, 'etc/lambkin': etc }, { LAMBKIN_ID: 'arm64-e2e', LAMBKIN_BROKER_PORT: String(port) })
  let client: mqtt.MqttClient | undefined
  try {
    await agent.waitFor(/lambkin device arm64-e2e ready: functions echo; broker mqtt:\/\/0\.0\.0\.0:\d+/, 240_000)
    // One process: the entrypoint's Node runs the agent and has no child.
    const children = readFileSync(`/proc/${agent.pid}/task/${agent.pid}/children`, 'utf8').trim()
    assert.is(children, '', 'the agent process has no child process')
    // Not anonymous: the broker listens beyond loopback, so it needs the users file.
    const refused = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 30_000 }).then(async (c) => { await c.endAsync(); return false }, () => true)
    assert.ok(refused, 'an anonymous client was let in')
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'host', password: 'host-secret', reconnectPeriod: 0, connectTimeout: 30_000 })
    await client.subscribeAsync('out/#', { qos: 1 })
    const published = new Promise<{ topic: string, payload: unknown }>((resolve) => client?.on('message', (topic, p) => resolve({ topic, payload: JSON.parse(p.toString()) as unknown })))
    // The PUBACK comes after the result is committed (docs/durability.md, "Ack after commit, on every path").
    await client.publishAsync('in/t1', JSON.stringify({ n: 21 }), { qos: 1 })
    const got = await Promise.race([published, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 60_000).unref())])
    assert.equal(got, { topic: 'out/t1', payload: { got: { n: 21 }, arch: 'arm64' } })
    await client.endAsync()
    client = undefined
    agent.kill('SIGTERM')
    assert.is(await agent.exited, 0, agent.err())
    assert.match(agent.err(), 'lambkin device arm64-e2e stopped')
    const results = (await readOutbox(data)).records.filter((r) => r.kind === 'result' && r.fn === 'echo')
    assert.is(results.length, 1, JSON.stringify(results))
    assert.equal(results[0]?.data.result, { doubled: 42 })
  } finally {
    await client?.endAsync(true)
    agent.kill('SIGKILL')
    await agent.exited
    rmSync(root, { recursive: true, force: true })
  }
})

test('started without the flags (lambkin device typed on a board), arm64 Node 22 execs itself in place: one process, with the flags and MALLOC_ARENA_MAX', async () => {
  if (image === undefined) return
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-arm64-'))
  const data = path.join(root, 'data')
  const etc = path.join(root, 'etc')
  mkdirSync(data)
  mkdirSync(etc)
  const { uid, gid } = userSpec(image.user)
  chownSync(data, uid, gid)
  writeFileSync(path.join(etc, 'broker-users.json'), '[]')
  const bin = image.entrypoint.find((a) => a.endsWith('bin.js')) as string
  // No flags, no MALLOC_ARENA_MAX, no broker: only what bin.js must add itself on arm64.
  const bare: ImageConfig = { ...image, entrypoint: [image.entrypoint[0] as string, bin, 'device'], env: image.env.filter((e) => !/^(MALLOC_ARENA_MAX|LAMBKIN_BROKER_|LAMBKIN_METRICS_)/.test(e)) }
  const agent = runImage(bare, { data, 'etc/lambkin': etc }, { LAMBKIN_ID: 'arm64-bare' })
  try {
    await agent.waitFor(/lambkin device arm64-bare ready/, 240_000)
    assert.is(readFileSync(`/proc/${agent.pid}/task/${agent.pid}/children`, 'utf8').trim(), '', 'a second process')
    const argv = readFileSync(`/proc/${agent.pid}/cmdline`, 'utf8').split('\0')
    for (const f of planRuntime({ arch: 'arm64', env: {}, execArgv: [] }).flags) assert.ok(argv.includes(f), `${f} in ${argv.join(' ')}`)
    assert.ok(readFileSync(`/proc/${agent.pid}/environ`, 'utf8').split('\0').includes('MALLOC_ARENA_MAX=2'))
    agent.kill('SIGTERM')
    assert.is(await agent.exited, 0, agent.err())
  } finally {
    agent.kill('SIGKILL')
    await agent.exited
    rmSync(root, { recursive: true, force: true })
  }
})

test('without LAMBKIN_ID the entrypoint refuses to take the container\'s host name as the device id (exit 1)', async () => {
  if (image === undefined) return
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-arm64-'))
  const etc = path.join(root, 'etc')
  mkdirSync(etc)
  writeFileSync(path.join(etc, 'broker-users.json'), '[]')
  try {
    // Podman sets container=podman in the container's environment; Docker makes /.dockerenv.
    const agent = runImage(image, { 'etc/lambkin': etc }, { container: 'podman' })
    assert.is(await agent.exited, 1, agent.err())
    assert.match(agent.err(), /^LAMBKIN_CONFIG_INVALID: config key "id" is not set.*container=podman.*Set LAMBKIN_ID/m)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

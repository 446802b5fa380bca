// External MQTT brokers for tests, the one place that starts them: a real aedes on an
// ephemeral (or given) port in this process, and a real Mosquitto child process on a free
// port with its config in a temp folder. And free ports.
import { spawn } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Aedes } from 'aedes'
import { dynsecFile, mosquittoConf } from '../../cloud-sync/broker/dynsec-init.js'
import { DYNSEC_NAMES } from '../../cloud-sync/broker/dynsec-roles.js'

export interface TestBroker { port: number, url: string, close: () => Promise<void> }

export async function aedesBroker (port = 0): Promise<TestBroker> {
  const broker = await Aedes.createBroker()
  const server = net.createServer(broker.handle)
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', () => resolve()) })
  const bound = (server.address() as net.AddressInfo).port
  return {
    port: bound,
    url: `mqtt://127.0.0.1:${bound}`,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** A port nobody listens on right now (bound once, then released). */
export async function freePort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function accepts (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

/** A Mosquitto child process; `close` and `stop` both end it and remove its folder. */
export interface Mosquitto extends TestBroker {
  /** Everything Mosquitto wrote to stderr/stdout so far (its log). */
  output: () => string
  /** The temp folder holding its config and files. */
  dir: string
  stop: () => Promise<void>
}

/**
 * Mosquitto 2 (MQTT 3.1.1 and 5) on 127.0.0.1, in memory, with `lines` added to its config
 * (anonymous clients allowed); `files` are written beside the config first, and `{dir}` in
 * lines names that folder (for acl_file and the like). On a free port unless `port` is given.
 */
export async function startMosquitto (lines: string[] = [], files: Record<string, string> = {}, port?: number): Promise<Mosquitto> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-mosquitto-'))
  // Mosquitto started as root reads its files as the mosquitto user, and writes there
  // (the dynamic-security plugin rewrites its file through a .new file beside it).
  chmodSync(dir, 0o755)
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text, { mode: 0o644 })
  forMosquitto(dir, Object.keys(files))
  const p = port ?? await freePort()
  const conf = path.join(dir, 'mosquitto.conf')
  writeFileSync(conf, [`listener ${p} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_type all', ...lines.map((l) => l.replaceAll('{dir}', dir))].join('\n') + '\n')
  return await runMosquitto(conf, p, dir)
}

/**
 * Runs Mosquitto on the config file `conf` whose listener is `port` on 127.0.0.1, and waits
 * until it accepts connections; `stop` ends it and removes `dir` (its folder).
 */
export async function runMosquitto (conf: string, port: number, dir: string): Promise<Mosquitto> {
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const deadline = Date.now() + 10_000
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`mosquitto did not start: ${out}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  return { port, url: `mqtt://127.0.0.1:${port}`, output: () => out, dir, stop, close: stop }
}

/** Gives `dir` and the files in it to the user Mosquitto drops to when we are root (it writes there). */
export function forMosquitto (dir: string, files: string[] = []): void {
  const owner = process.getuid?.() === 0 ? mosquittoUser() : undefined
  if (owner === undefined) return
  for (const f of [dir, ...files.map((name) => path.join(dir, name))]) chownSync(f, owner.uid, owner.gid)
}

/** The uid and gid of the `mosquitto` user Mosquitto drops to when started as root, if there is one. */
function mosquittoUser (): { uid: number, gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('mosquitto:'))
  if (line === undefined) return undefined
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto'
export const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so'

/**
 * Why Mosquitto with dynamic security cannot run here (the binary or the plugin is missing), or
 * undefined when it can. Under CI=1 a missing one throws: CI installs both and never skips.
 */
export function dynsecSkip (): string | undefined {
  const missing = [MOSQUITTO_BIN, DYNSEC_PLUGIN].filter((f) => !existsSync(f))
  if (missing.length === 0) return undefined
  const reason = `Mosquitto with dynamic security is not installed (no ${missing.join(', ')}; apt-get install mosquitto)`
  if (process.env.CI === '1') throw new Error(`${reason}, and CI must not skip`)
  return reason
}

export interface DynsecMosquitto extends Mosquitto {
  /** `mqtt://lambkin.cloud:<password>@127.0.0.1:<port>`: the client dynsec-init makes, with the cloud and admin roles. */
  adminUrl: string
  /** Where the plugin keeps its file (it rewrites it on every change). */
  dynsecFile: () => string
}

/** Mosquitto with the dynamic-security plugin, its file and config lines from cloud-sync/broker/dynsec-init.ts. */
export async function startDynsecMosquitto (port?: number): Promise<DynsecMosquitto> {
  const password = randomBytes(18).toString('base64url')
  const conf = mosquittoConf({ dynsecFile: '{dir}/dynamic-security.json', plugin: DYNSEC_PLUGIN })
  const m = await startMosquitto(conf.split('\n').filter((l) => l !== '' && !l.startsWith('#')), { 'dynamic-security.json': JSON.stringify(dynsecFile(password), null, 2) }, port)
  return { ...m, adminUrl: `mqtt://${DYNSEC_NAMES.cloudClient}:${password}@127.0.0.1:${m.port}`, dynsecFile: () => path.join(m.dir, 'dynamic-security.json') }
}

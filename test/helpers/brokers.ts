// External MQTT brokers for tests, the one place that starts them: a real aedes on an
// ephemeral (or given) port in this process, and a real Mosquitto child process on a free
// port with its config in a temp folder. And free ports.
import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Aedes } from 'aedes'

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
  /** The folder holding its config and the files given. */
  dir: string
  /** The running process's id. */
  readonly pid: number
  /** Everything Mosquitto wrote to stderr/stdout so far (its log). */
  output: () => string
  stop: () => Promise<void>
  /** Ends the process (SIGTERM, or as given) and keeps its folder; `start` brings it back on the same port and config. */
  kill: (signal?: NodeJS.Signals) => Promise<void>
  start: () => Promise<void>
  /** Adds users to its password file (`password_file {dir}/passwd` in its lines) and has it reread its files (SIGHUP). */
  addUsers: (users: Record<string, string>) => Promise<void>
}

/** Why Mosquitto tests cannot run here, or undefined when they can. */
export function mosquittoMissing (): string | undefined {
  if (!existsSync('/usr/sbin/mosquitto')) return '/usr/sbin/mosquitto is not installed (apt-get install mosquitto)'
  if (!existsSync('/usr/bin/mosquitto_passwd')) return '/usr/bin/mosquitto_passwd is not installed (apt-get install mosquitto)'
  return undefined
}

/**
 * Mosquitto 2 (MQTT 3.1.1 and 5) on 127.0.0.1, in memory, with `lines` added to its config
 * (anonymous clients allowed); `files` are written beside the config first, and `{dir}` in
 * lines names that folder (for acl_file and the like). On a free port unless `port` is given.
 */
export async function startMosquitto (lines: string[] = [], files: Record<string, string> = {}, port?: number): Promise<Mosquitto> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-mosquitto-'))
  // Mosquitto started as root reads its files as the mosquitto user.
  chmodSync(dir, 0o755)
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text, { mode: 0o644 })
  const p = port ?? await freePort()
  const conf = path.join(dir, 'mosquitto.conf')
  writeFileSync(conf, [`listener ${p} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_type all', ...lines.map((l) => l.replaceAll('{dir}', dir))].join('\n') + '\n')
  let out = ''
  let child: ReturnType<typeof spawn>
  let exited: Promise<void>
  const start = async (): Promise<void> => {
    child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
    exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    const deadline = Date.now() + 10_000
    while (!(await accepts(p))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL')
        rmSync(dir, { recursive: true, force: true })
        throw new Error(`mosquitto did not start: ${out}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
  await start()
  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    await exited
  }
  const stop = async (): Promise<void> => {
    await kill()
    rmSync(dir, { recursive: true, force: true })
  }
  const addUsers = async (users: Record<string, string>): Promise<void> => {
    const file = path.join(dir, 'passwd')
    if (!existsSync(file)) writeFileSync(file, '', { mode: 0o644 })
    for (const [user, password] of Object.entries(users)) execFileSync('/usr/bin/mosquitto_passwd', ['-b', file, user, password])
    chmodSync(file, 0o644)
    if (child.exitCode === null) child.kill('SIGHUP')
    // A reload is not acknowledged; Mosquitto logs it.
    const before = out.split('Reloading config').length
    const deadline = Date.now() + 5000
    while (out.split('Reloading config').length === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return { port: p, url: `mqtt://127.0.0.1:${p}`, dir, get pid () { return child.pid as number }, output: () => out, stop, close: stop, kill, start, addUsers }
}

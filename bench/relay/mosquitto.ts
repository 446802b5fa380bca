// One Mosquitto for bench/relay: /usr/sbin/mosquitto on a free port, its config in a temp
// folder, in memory. Defaults as a board owner gets them (max_inflight_messages 20 towards each
// subscriber, Nagle's algorithm on its sockets), except a queue deep enough that the load
// generator's window never loses a message. BENCH_BROKER_NODELAY=1 sets `set_tcp_nodelay true`:
// with Nagle on, the broker's next small write can wait for a delayed ACK (about 40 ms on Linux)
// when no packet goes back at once to carry that ACK, as a QoS 1 reply's PUBACK does and a QoS 0
// reply has none (docs/performance.md, "The relay job": why QoS 0 measured slower than QoS 1).
import { spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'

export interface Broker { url: string, stop: () => Promise<void> }

/** A TCP port nobody listens on right now (bound once, then released). */
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

/** Starts Mosquitto 2; throws with its output when it does not listen within 10 s. */
export async function startMosquitto (): Promise<Broker> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-mosquitto-'))
  // Mosquitto started as root reads its config as the mosquitto user.
  chmodSync(dir, 0o755)
  const port = await freePort()
  const conf = path.join(dir, 'mosquitto.conf')
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_type error', 'max_queued_messages 100000']
  if (process.env.BENCH_BROKER_NODELAY === '1') lines.push('set_tcp_nodelay true')
  writeFileSync(conf, lines.join('\n') + '\n', { mode: 0o644 })
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
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

// Starts a real Mosquitto (/usr/sbin/mosquitto) for tests that need an external broker with
// what aedes lacks (shared subscriptions, MQTT 5): a free port on 127.0.0.1, a config file
// in a temp folder, stopped (SIGTERM to its own pid) and cleaned up by close().
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface Mosquitto { port: number, url: string, close: () => Promise<void> }

async function freePort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function accepting (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

/** `extra` lines are appended to mosquitto.conf (e.g. `max_packet_size 2000`). */
export async function startMosquitto (extra: string[] = []): Promise<Mosquitto> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-mosquitto-'))
  const port = await freePort()
  const conf = path.join(dir, 'mosquitto.conf')
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', ...extra, ''].join('\n'))
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  for (let i = 0; !(await accepting(port)); i++) {
    if (child.exitCode !== null || i > 200) {
      child.kill()
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`mosquitto did not start on port ${port}: ${stderr}`)
    }
    await sleep(25)
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    close: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

// External MQTT brokers for tests: a real aedes on an ephemeral (or given) port in this
// process, and a real Mosquitto child process on a free port with its config in a temp folder.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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

/** Mosquitto 2 on 127.0.0.1 (MQTT 3.1.1 and 5), in memory; `extra` lines go into its config. */
export async function mosquitto (port?: number, extra: string[] = []): Promise<TestBroker> {
  const p = port ?? await freePort()
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-mosquitto-'))
  const conf = path.join(dir, 'mosquitto.conf')
  writeFileSync(conf, [`listener ${p} 127.0.0.1`, 'allow_anonymous true', 'persistence false', ...extra, ''].join('\n'))
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  for (let i = 0; i < 200 && !(await accepts(p)); i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return {
    port: p,
    url: `mqtt://127.0.0.1:${p}`,
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

// A real Mosquitto for tests that need an external broker speaking MQTT 5: started on a free
// port in a temp folder with the test's config lines, stopped (and its folder removed) after.
import { spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'

export const MOSQUITTO = '/usr/sbin/mosquitto'

export interface Mosquitto {
  port: number
  url: string
  /** Everything Mosquitto wrote to stderr/stdout so far (its log). */
  output: () => string
  stop: () => Promise<void>
}

async function freePort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as net.AddressInfo
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

/**
 * Starts Mosquitto with `lines` added to its config (anonymous clients allowed, no
 * persistence); `files` are written beside the config first, and `{dir}` in lines names
 * that folder (for acl_file and the like).
 */
export async function startMosquitto (lines: string[] = [], files: Record<string, string> = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-mosquitto-'))
  // Mosquitto started as root reads its files as the mosquitto user.
  chmodSync(dir, 0o755)
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text, { mode: 0o644 })
  const port = await freePort()
  const conf = path.join(dir, 'mosquitto.conf')
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_type all', ...lines.map((l) => l.replaceAll('{dir}', dir))].join('\n') + '\n')
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const deadline = Date.now() + 10_000
  while (!(await accepting(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`mosquitto did not start: ${out}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

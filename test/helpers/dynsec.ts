// Mosquitto with the dynamic-security plugin for tests: started by brokers.ts's startMosquitto
// with the lines and the plugin file `lambkin broker dynsec-init` writes
// (cloud-sync/broker/dynsec-init.ts), the file in a folder Mosquitto may write (it rewrites it).
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { dynsecFile, mosquittoConf } from '../../cloud-sync/broker/dynsec-init.js'
import { DYNSEC_NAMES } from '../../cloud-sync/broker/dynsec-roles.js'
import { startMosquitto } from './brokers.js'
import { underCi } from './ci.js'
import type { Mosquitto, TestBroker } from './brokers.js'

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto'
export const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so'

/**
 * Why Mosquitto with dynamic security cannot run here (the binary or the plugin is missing), or
 * undefined when it can. Under CI a missing one throws: CI installs both and never skips.
 */
export function dynsecSkip (): string | undefined {
  const missing = [MOSQUITTO_BIN, DYNSEC_PLUGIN].filter((f) => !existsSync(f))
  if (missing.length === 0) return undefined
  const reason = `Mosquitto with dynamic security is not installed (no ${missing.join(', ')}; apt-get install mosquitto)`
  if (underCi()) throw new Error(`${reason}, and CI must not skip`)
  return reason
}

/** Gives `dir` and the files in it to the user Mosquitto drops to when we are root, so it can write there. */
export function forMosquitto (dir: string, files: string[] = []): void {
  if (process.getuid?.() !== 0) return
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('mosquitto:'))
  if (line === undefined) return
  const [, , uid, gid] = line.split(':')
  for (const f of [dir, ...files.map((name) => path.join(dir, name))]) chownSync(f, Number(uid), Number(gid))
}

/** `mosquitto.conf` lines of a generated config, without comments and blank lines. */
export function confLines (text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))
}

export interface DynsecMosquitto extends TestBroker {
  /** Everything Mosquitto wrote so far (its log). */
  output: () => string
  /** Ends Mosquitto and removes its folders. */
  stop: () => Promise<void>
  /** `mqtt://lambkin.cloud:<password>@127.0.0.1:<port>`: the client dynsec-init makes, with the cloud and admin roles. */
  adminUrl: string
  /** The plugin's file (it rewrites it on every change). */
  dynsecFile: string
  /** Stops Mosquitto and starts it again on the same port and plugin file (what it saved survives). */
  restart: () => Promise<void>
}

/** Mosquitto with the plugin and a new site's file (the lambkin.cloud client); close removes both folders. */
export async function startDynsecMosquitto (): Promise<DynsecMosquitto> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-dynsec-'))
  const file = path.join(dir, 'dynamic-security.json')
  const password = randomBytes(18).toString('base64url')
  writeFileSync(file, JSON.stringify(dynsecFile(password), null, 2), { mode: 0o600 })
  forMosquitto(dir, ['dynamic-security.json'])
  const lines = confLines(mosquittoConf({ dynsecFile: file, plugin: DYNSEC_PLUGIN }))
  let m: Mosquitto
  try {
    m = await startMosquitto(lines)
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const port = m.port
  const stop = async (): Promise<void> => { await m.stop(); rmSync(dir, { recursive: true, force: true }) }
  const restart = async (): Promise<void> => { await m.stop(); m = await startMosquitto(lines, {}, port) }
  return { port, url: m.url, output: () => m.output(), stop, close: stop, restart, adminUrl: `mqtt://${DYNSEC_NAMES.cloudClient}:${password}@127.0.0.1:${port}`, dynsecFile: file }
}

// The demo's folder: a signing key, a copy of the examples to deploy (and to edit), a version
// that throws on every reading (to watch a board roll it back by itself), a sysfs-style thermal
// zone file, and one folder per board with its config and a local function it reloads on edit.
import { cpSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeys } from '../../src/bundle/index.js'

/** Resolved from this file, not the working directory, so `lambkin demo` works anywhere. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/', import.meta.url))

/** The two boards, one room each; every board belongs to the group the examples go to. */
export const DEMO_BOARDS = Object.freeze(['greenhouse', 'office'] as const)
export type BoardId = typeof DEMO_BOARDS[number]
export const DEMO_GROUP = 'demo'

/** Deployed in this order (two at a time): the ones the simulated sensors and schedules feed. */
export const DEPLOYED_EXAMPLES = Object.freeze(['threshold-alarm', 'room-average', 'rolling-average', 'fan-controller', 'heartbeat', 'request-reply'])

/**
 * The boards' deploy settings: a health window short enough to watch a bad version go back
 * within seconds (a reading every 500 ms gives the gate its 3 invocations at once).
 */
export const DEMO_DEPLOY = Object.freeze({ healthWindowMs: 3000, minInvocations: 3, maxErrorRate: 0.5 })

export interface DemoBoard { id: BoardId, dir: string, dataDir: string, functionsDir: string, configFile: string }

export interface DemoWorld {
  root: string
  keyFile: string
  publicKeyFile: string
  cloudDir: string
  /** The staged examples: what is deployed, and what to edit and deploy again. */
  examplesDir: string
  /** A threshold-alarm that throws on every reading. */
  brokenDir: string
  /** The boards' SoC temperature, in millidegrees as /sys/class/thermal/thermal_zone0/temp has it. */
  thermalFile: string
  boards: DemoBoard[]
}

/** Writes the demo's folder under `root` (which exists and is the demo's alone). */
export function stageWorld (root: string): DemoWorld {
  const keys = generateKeys(path.join(root, 'keys'))
  const examplesDir = path.join(root, 'examples')
  cpSync(EXAMPLES_DIR, examplesDir, { recursive: true })
  const thermalFile = path.join(root, 'sys', 'class', 'thermal', 'thermal_zone0', 'temp')
  mkdirSync(path.dirname(thermalFile), { recursive: true })
  writeThermal(thermalFile, 60)
  // fan-controller reads the board's thermal zone: here, the simulated one.
  const fanManifest = path.join(examplesDir, 'fan-controller', 'function.json')
  const fan = JSON.parse(readFileSync(fanManifest, 'utf8')) as { triggers: Array<{ path?: string }> }
  for (const t of fan.triggers) if (t.path !== undefined) t.path = thermalFile
  writeFileSync(fanManifest, JSON.stringify(fan, null, 2) + '\n')

  // The rooms' temperatures reach threshold-alarm over MQTT: its own simulated sensor would
  // raise "greenhouse" alarms on the office board too.
  const alarmManifest = path.join(examplesDir, 'threshold-alarm', 'function.json')
  const alarm = JSON.parse(readFileSync(alarmManifest, 'utf8')) as { triggers: Array<{ path?: string }> }
  alarm.triggers = alarm.triggers.filter((t) => t.path?.startsWith('sim:') !== true)
  writeFileSync(alarmManifest, JSON.stringify(alarm, null, 2) + '\n')

  const brokenDir = path.join(root, 'try', 'threshold-alarm')
  mkdirSync(brokenDir, { recursive: true })
  cpSync(path.join(examplesDir, 'threshold-alarm', 'function.json'), path.join(brokenDir, 'function.json'))
  writeFileSync(path.join(brokenDir, 'index.js'), [
    '// A threshold-alarm that throws on every reading: deployed, it fails the boards\' health gate',
    '// within seconds and each board goes back to the version before it by itself.',
    'export default function () {',
    '  throw new Error(\'broken on purpose: this version throws on every reading\')',
    '}',
    ''
  ].join('\n'))

  const boards = DEMO_BOARDS.map((id): DemoBoard => {
    const dir = path.join(root, 'boards', id)
    const functionsDir = path.join(dir, 'functions')
    mkdirSync(functionsDir, { recursive: true })
    // A local function: edit it and the board reloads it by itself (watch.functions).
    cpSync(path.join(EXAMPLES_DIR, 'hello'), path.join(functionsDir, 'hello'), { recursive: true })
    return { id, dir, dataDir: path.join(dir, 'data'), functionsDir, configFile: path.join(dir, 'device.json') }
  })
  return { root, keyFile: keys.privateFile, publicKeyFile: keys.publicFile, cloudDir: path.join(root, 'cloud'), examplesDir, brokenDir, thermalFile, boards }
}

/**
 * A board's config file (owner-only: it holds the board's secret). It trusts the demo's key
 * for bundles and the cloud's for desired states, and serves metrics (and its outbox) locally.
 */
export function writeBoardConfig (b: DemoBoard, cloudUrl: string, secret: string, trusted: string[]): void {
  const config = {
    id: b.id,
    dataDir: b.dataDir,
    functionsDir: b.functionsDir,
    brokerPort: 0,
    metricsPort: 0,
    metricsSnapshotMs: 10_000,
    invocation: { workers: 1 },
    trustedKeys: trusted,
    // Back within a second or two of the cloud's return, so the backlog drains while you watch.
    cloud: { url: cloudUrl, password: secret, heartbeatMs: 2000, reconnectMs: 250, reconnectMaxMs: 2000 },
    deploy: DEMO_DEPLOY
  }
  writeFileSync(b.configFile, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
}

/** Writes a reading the way sysfs shows it (integer millidegrees), whole: temp file and rename. */
export function writeThermal (file: string, celsius: number): void {
  writeFileSync(`${file}.tmp`, `${Math.round(celsius * 1000)}\n`)
  renameSync(`${file}.tmp`, file)
}

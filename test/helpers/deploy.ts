// Deployment test helpers (docs/deploy.md): signing keys, bundles packed from a function written to a
// temp folder, the upload body the API takes, and simulated devices: real MQTT.js clients on the
// cloud's broker that speak the wire frames [W5]-[W7] and apply, fail, stay silent or roll back
// as a test tells them.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { loadFunctionDir } from '../../src/function/index.js'
import { generateKeys, packBundle, readSigningKey, signBundle } from '../../src/bundle/index.js'
import type { PackedBundle, SigningKey } from '../../src/bundle/index.js'
import { decodeFrame, downTopic, encodeFrame, parseBundleFrame, parseDesired, parseInvoke, upTopic } from '../../src/wire/index.js'
import type { DesiredFrame, ReportedFailure, ReportedFunction, ReportedRollback } from '../../src/wire/index.js'
import type { RolloutView } from '../../cloud-sync/index.js'
import type { CloudFixture } from './cloud.js'

export const tmpDir = (prefix = 'lambkin-deploy-'): string => mkdtempSync(join(tmpdir(), prefix))

/** A fresh ed25519 pair: the signing key and the public key file to trust. */
export function makeKeys (): { key: SigningKey, pubFile: string } {
  const dir = tmpDir('lambkin-keys-')
  const k = generateKeys(dir)
  return { key: readSigningKey(k.privateFile), pubFile: k.publicFile }
}

/** Packs a function `name` whose handler returns `tag` (a different tag, a different version). */
export async function makeBundle (name: string, tag: string): Promise<PackedBundle> {
  const dir = join(tmpDir(), name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'function.json'), JSON.stringify({ name, handler: 'index.js' }))
  writeFileSync(join(dir, 'index.js'), `export default async (event) => ({ tag: ${JSON.stringify(tag)}, event })\n`)
  return packBundle(await loadFunctionDir(dir))
}

/** The body of POST /v1/bundles for a bundle signed by `key`. */
export function uploadBody (b: PackedBundle, key: SigningKey): Record<string, string> {
  const sig = signBundle(b.sha256, key)
  return { bundle: b.bytes.toString('base64'), sha256: b.sha256, signature: Buffer.from(sig.signature).toString('base64'), keyId: sig.keyId }
}

/** Uploads and returns the sha256; throws on any status but 200/201. */
export async function upload (f: CloudFixture, b: PackedBundle, key: SigningKey): Promise<string> {
  const r = await f.api('POST', '/v1/bundles', uploadBody(b, key))
  if (r.status !== 201 && r.status !== 200) throw new Error(`upload: ${r.status} ${JSON.stringify(r.body)}`)
  return b.sha256
}

/** What a simulated device does with one function of a new desired state. */
export type Behaviour = 'apply' | 'fail' | 'silent' | 'health-fail'

/**
 * A device that acts on down/desired [W5] as the contract says: a higher id is acted on, the
 * same id is a no-op; each changed function is applied (after fetching its bundle when
 * `fetch`), failed, ignored, or applied and then rolled back by a "health gate".
 */
export class SimDevice {
  readonly id: string
  readonly client: MqttClient
  behaviour: (fn: string, version: string) => Behaviour = () => 'apply'
  fetch = false
  /** Set: each function it applies reports its health window open with this many ms left [W5] until `passWindows()`. */
  watchMs: number | undefined
  answerInvokes = true
  invokesSeen = 0
  acted = 0
  readonly running = new Map<string, ReportedFunction>()
  readonly failures: ReportedFailure[] = []
  readonly rollbacks: ReportedRollback[] = []
  readonly desired: DesiredFrame[] = []
  readonly fetched: string[] = []

  private constructor (id: string, client: MqttClient) {
    this.id = id
    this.client = client
  }

  static async connect (f: CloudFixture, id: string, secret: string, setup: (d: SimDevice) => void = () => {}): Promise<SimDevice> {
    const c = await f.connect(id, secret, { clean: true })
    const d = new SimDevice(id, c)
    setup(d)
    let chain = Promise.resolve()
    c.on('message', (topic, payload) => { chain = chain.then(async () => await d.#on(topic, payload)).catch(() => {}) })
    await c.subscribeAsync(`lambkin/v1/${id}/down/#`, { qos: 1 })
    await d.report()
    return d
  }

  async #on (topic: string, payload: Buffer): Promise<void> {
    if (topic === downTopic(this.id, 'desired')) await this.#desired(parseDesired(decodeFrame(payload, 1e6)))
    if (topic === downTopic(this.id, 'invoke')) this.invokesSeen++
    if (topic === downTopic(this.id, 'invoke') && this.answerInvokes) {
      const inv = parseInvoke(decodeFrame(payload, 1e6))
      const version = this.running.get(inv.fn)?.version
      const frame = version === undefined
        ? { id: inv.id, fn: inv.fn, ok: false, error: { code: 'LAMBKIN_FUNCTION_NOT_FOUND', message: `no ${inv.fn}` }, durationMs: 0 }
        : { id: inv.id, fn: inv.fn, ok: true, version, result: { echo: inv.event }, durationMs: 1 }
      await this.client.publishAsync(upTopic(this.id, 'invoke-result'), encodeFrame(frame), { qos: 1 })
    }
  }

  async #desired (d: DesiredFrame): Promise<void> {
    this.desired.push(d)
    if (d.deploymentId <= this.acted) return
    const at = Date.now()
    for (const f of d.functions) {
      const want: ReportedFunction = {
        name: f.name,
        version: f.live.version,
        sha256: f.live.sha256,
        ...(f.canary === undefined ? {} : { canary: { version: f.canary.version, sha256: f.canary.sha256, weight: f.canary.weight } })
      }
      const now = this.running.get(f.name)
      if (now !== undefined && JSON.stringify(now) === JSON.stringify(want)) continue
      const version = f.canary?.version ?? f.live.version
      const b = this.behaviour(f.name, version)
      if (b === 'silent') return
      if (b === 'fail') { this.failures.push({ deploymentId: d.deploymentId, name: f.name, version, code: 'LAMBKIN_COMPILE_ERROR', message: 'does not compile', at }); continue }
      if (this.fetch) await this.#fetch(f.canary?.sha256 ?? f.live.sha256)
      if (b === 'health-fail') { this.rollbacks.push({ deploymentId: d.deploymentId, name: f.name, from: version, ...(now === undefined ? {} : { to: now.version }), code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: 'errors', at }); continue }
      this.running.set(f.name, this.watchMs === undefined ? want : { ...want, watching: this.watchMs })
    }
    for (const name of [...this.running.keys()]) if (!d.functions.some((f) => f.name === name)) this.running.delete(name)
    this.acted = d.deploymentId
    await this.report()
  }

  async #fetch (sha256: string): Promise<void> {
    const got = new Promise<void>((resolve) => {
      const on = (topic: string, payload: Buffer): void => {
        if (topic !== downTopic(this.id, 'bundle')) return
        const b = parseBundleFrame(decodeFrame(payload, 2e6))
        if (b.sha256 !== sha256) return
        this.client.off('message', on)
        if (b.bundle !== undefined) this.fetched.push(sha256)
        resolve()
      }
      this.client.on('message', on)
    })
    await this.client.publishAsync(upTopic(this.id, 'fetch'), encodeFrame({ sha256 }), { qos: 1 })
    await got
  }

  /** Every open health window passes (none reports `watching` any more), and the device reports it. */
  async passWindows (): Promise<void> {
    for (const [name, f] of this.running) { const { watching: _w, ...rest } = f; this.running.set(name, rest) }
    await this.report()
  }

  /** Publishes up/reported (retained) with what it runs now. */
  async report (): Promise<void> {
    const frame = {
      deploymentId: this.acted,
      applying: false,
      functions: [...this.running.values()],
      failures: this.failures.slice(-20),
      rollbacks: this.rollbacks.slice(-20),
      time: Date.now()
    }
    await this.client.publishAsync(upTopic(this.id, 'reported'), encodeFrame(frame), { qos: 1, retain: true })
  }

  end (): void {
    this.client.end(true)
  }
}

/** Polls the rollout through the API's long-poll until `pred` holds (at most `boundMs` of real time). */
export async function untilRollout (f: CloudFixture, id: string, pred: (r: RolloutView) => boolean, boundMs = 15_000): Promise<RolloutView> {
  const end = Date.now() + boundMs
  let r = (await f.api<RolloutView>('GET', `/v1/rollouts/${id}`)).body
  while (!pred(r)) {
    if (Date.now() > end) throw new Error(`rollout ${id} never got there: ${JSON.stringify({ state: r.state, counts: r.counts, devices: r.devices })}`)
    r = (await f.api<RolloutView>('GET', `/v1/rollouts/${id}?since=${r.revision}&wait=500`)).body
  }
  return r
}

/** Waits (real time, bounded) until `cond` holds. */
export async function until (cond: () => boolean | Promise<boolean>, boundMs = 10_000): Promise<void> {
  const end = Date.now() + boundMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition never held')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

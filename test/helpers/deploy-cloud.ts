// A stand-in for the cloud's side of deployments in device tests: a real aedes on an ephemeral
// port and one MQTT.js client that publishes retained desired states, answers up/fetch with
// real signed bundles (or with bytes a test altered), sends down/invoke and collects what the
// device reports [W5]-[W7]. The real cloud (cloud-sync/) is driven by the e2e tests.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import type { MqttClient } from 'mqtt'
import { packBundle, signBundle, signDesired } from '../../src/bundle/index.js'
import type { PackedBundle, SigningKey } from '../../src/bundle/index.js'
import { loadFunctionDir } from '../../src/function/index.js'
import { decodeFrame, downTopic, encodeFrame, parseFetch, parseInvokeResult, parseReported } from '../../src/wire/index.js'
import type { DesiredFunction, DesiredVersion, InvokeResultFrame, ReportedFrame } from '../../src/wire/index.js'
import { aedesBroker } from './brokers.js'
import type { TestBroker } from './brokers.js'

/** A packed, signed function version. */
export interface Version { packed: PackedBundle, desired: DesiredVersion }

/** Packs a function folder written from `code` (and manifest fields) and signs it with `key`. */
export async function makeVersion (name: string, code: string, key: SigningKey, number = 1, manifest: Record<string, unknown> = {}): Promise<Version> {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'lambkin-fn-')), name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'function.json'), JSON.stringify({ name, ...manifest }))
  writeFileSync(path.join(dir, 'index.js'), code)
  const packed = packBundle(await loadFunctionDir(dir))
  const sig = signBundle(packed.sha256, key)
  return {
    packed,
    desired: { version: packed.version, number, sha256: packed.sha256, size: packed.bytes.byteLength, signature: sig.signature, keyId: sig.keyId }
  }
}

export class DeployCloud {
  readonly bundles = new Map<string, Uint8Array>()
  /** sha256 -> the bytes sent instead (a tampered bundle). */
  readonly altered = new Map<string, Uint8Array>()
  /** sha256s whose fetches get no answer at all (a cloud that lost them, a link that drops them). */
  readonly unanswered = new Set<string>()
  readonly reports: ReportedFrame[] = []
  readonly fetches: string[] = []
  #results = new Map<string, (r: InvokeResultFrame) => void>()
  #listeners = new Set<() => void>()

  private constructor (readonly broker: TestBroker, readonly client: MqttClient, readonly deviceId: string) {}

  /** `signer`: the key desired states are signed with (a key the device trusts) [W5]; none: unsigned. */
  static async start (deviceId: string, port = 0, signer?: SigningKey): Promise<DeployCloud> {
    const broker = await aedesBroker(port)
    const client = await mqtt.connectAsync(broker.url, { clientId: `cloud-${deviceId}`, reconnectPeriod: 200 })
    const c = new DeployCloud(broker, client, deviceId)
    c.#signer = signer
    client.on('message', (topic, payload) => c.#onMessage(topic, payload))
    await client.subscribeAsync(`lambkin/v1/${deviceId}/up/#`, { qos: 1 })
    return c
  }

  #signer: SigningKey | undefined

  serve (...versions: Version[]): void {
    for (const v of versions) this.bundles.set(v.packed.sha256, v.packed.bytes)
  }

  #onMessage (topic: string, payload: Buffer): void {
    const kind = topic.slice(topic.lastIndexOf('/') + 1)
    if (payload.length === 0) return
    const f = decodeFrame(payload, 4 * 1024 * 1024)
    if (kind === 'fetch') {
      const { sha256 } = parseFetch(f)
      this.fetches.push(sha256)
      if (this.unanswered.has(sha256)) return
      const bundle = this.altered.get(sha256) ?? this.bundles.get(sha256)
      const answer = bundle === undefined ? { sha256, error: { code: 'LAMBKIN_BUNDLE_INVALID', message: 'no such bundle' } } : { sha256, bundle }
      void this.client.publishAsync(downTopic(this.deviceId, 'bundle'), encodeFrame(answer), { qos: 1 })
    } else if (kind === 'reported') {
      this.reports.push(parseReported(f))
    } else if (kind === 'invoke-result') {
      const r = parseInvokeResult(f)
      this.#results.get(r.id)?.(r)
    }
    for (const l of this.#listeners) l()
  }

  /** Publishes `down/desired` retained at QoS 1 [W5], signed for the device with the `signer` of start (unsigned without one). */
  async desire (deploymentId: number, functions: DesiredFunction[]): Promise<void> {
    const frame = { deploymentId, functions, time: Date.now() }
    const auth = this.#signer === undefined ? {} : { auth: signDesired(this.deviceId, frame, this.#signer) }
    await this.client.publishAsync(downTopic(this.deviceId, 'desired'), encodeFrame({ ...frame, ...auth }), { qos: 1, retain: true })
  }

  /** Resolves with the first report (seen so far or later) that `check` accepts. */
  reported (check: (r: ReportedFrame) => boolean, timeoutMs = 30_000): Promise<ReportedFrame> {
    return new Promise((resolve, reject) => {
      const look = (): boolean => {
        const r = this.reports.find(check)
        if (r === undefined) return false
        clearTimeout(timer)
        this.#listeners.delete(on)
        resolve(r)
        return true
      }
      const on = (): void => { look() }
      const timer = setTimeout(() => { this.#listeners.delete(on); reject(new Error(`no matching report; last: ${JSON.stringify(this.reports.at(-1))}`)) }, timeoutMs)
      if (!look()) this.#listeners.add(on)
    })
  }

  /** Sends `down/invoke` [W7] and resolves with its `up/invoke-result`. */
  invoke (id: string, fn: string, event: unknown, timeoutMs = 5000): Promise<InvokeResultFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.#results.delete(id); reject(new Error(`no invoke-result for ${id}`)) }, timeoutMs + 10_000)
      this.#results.set(id, (r) => { clearTimeout(timer); this.#results.delete(id); resolve(r) })
      void this.client.publishAsync(downTopic(this.deviceId, 'invoke'), encodeFrame({ id, fn, event, timeoutMs }), { qos: 0 })
    })
  }

  async close (): Promise<void> {
    await this.client.endAsync(true)
    await this.broker.close()
  }
}

// A client of Mosquitto 2's dynamic-security plugin (docs/brokers.md): JSON commands published on
// `$CONTROL/dynamic-security/v1`, answers read from `…/v1/response` and matched by each command's
// correlationData. The plugin answers every command of a message in one response message, and
// publishes it to every subscriber, so answers meant for another cloud instance are ignored.
// The only file of the credential side that touches MQTT.js.
import { randomBytes } from 'node:crypto'
import { readPemFlag } from '../../src/small-file.js'
import mqtt from 'mqtt'
import type { IClientOptions, MqttClient } from 'mqtt'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { redactUrls } from '../../src/redact.js'

export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1'
export const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`

export const DYNSEC_DEFAULTS = Object.freeze({
  /** A command's answer must arrive within this, ms; the plugin answers at once, so only a broker in trouble takes long. */
  timeoutMs: 10_000,
  /** connect() gives up after this, ms: the broker must be there when the cloud starts. */
  connectTimeoutMs: 10_000,
  /** Between reconnects after a lost connection, ms (MQTT.js reconnectPeriod). */
  reconnectMs: 1000
})

/** One command: `{ command: 'createClient', username, … }` as the plugin's README lists them. */
export interface DynsecCommand { command: string, [field: string]: unknown }

/** The plugin's answer to one command: `error` is its reason when it refused ("Client not found"). */
export interface DynsecAnswer { command: string, error?: string, data?: unknown }

export interface DynsecClientOptions {
  /** `mqtt://user:password@host:port` or `mqtts://…` of a client allowed to drive the plugin (an admin role, dynsec-roles.ts). */
  url: string
  timeoutMs?: number
  connectTimeoutMs?: number
  reconnectMs?: number
  /** Where connection changes are reported (credentials redacted). */
  log?: (line: string) => void
  /** A PEM CA file for an mqtts:// broker with a private CA. */
  caFile?: string
  /** Extra MQTT.js options (the client id, TLS settings). */
  mqtt?: IClientOptions
}

const failed = (message: string, cause?: unknown, details?: Record<string, unknown>): LambkinError =>
  new LambkinError(ErrorCodes.BROKER_ADMIN_FAILED, message, { cause, details })

interface Pending { resolve: (a: DynsecAnswer) => void, reject: (e: Error) => void }

export class DynsecClient {
  readonly #client: MqttClient
  /** How long a command's answer may take, ms. */
  readonly #timeoutMs: number
  readonly #prefix = randomBytes(6).toString('hex')
  /** Commands sent and not yet answered, by correlationData. */
  readonly #pending = new Map<string, Pending>()
  #next = 0
  #lastError = 'not connected yet'
  #closed = false

  private constructor (client: MqttClient, timeoutMs: number) {
    this.#client = client
    this.#timeoutMs = timeoutMs
    client.on('message', (topic, payload) => { if (topic === DYNSEC_RESPONSE_TOPIC) this.#answer(payload) })
    client.on('error', (err) => { this.#lastError = err.message })
    client.on('close', () => {
      // An answer in flight is lost with the connection (the plugin answers at QoS 0).
      this.#failAll(`the connection to the broker closed before it answered (${this.#lastError}); the command may or may not have been applied`)
    })
  }

  /**
   * Connects, subscribes to the answers and checks the plugin answers (getDefaultACLAccess).
   * Throws LAMBKIN_BROKER_ADMIN_FAILED when the broker refuses the credentials, cannot be
   * reached within connectTimeoutMs, refuses the subscription, or nothing answers the probe.
   */
  static async connect (opts: DynsecClientOptions): Promise<DynsecClient> {
    const o = { ...DYNSEC_DEFAULTS, ...opts }
    for (const key of ['timeoutMs', 'connectTimeoutMs', 'reconnectMs'] as const) {
      if (!Number.isInteger(o[key]) || o[key] < 1 || o[key] > 600_000) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `the broker admin's ${key} must be an integer from 1 to 600000 ms; got ${String(o[key])}`, { details: { key } })
    }
    const where = redactUrls(o.url)
    const ca = o.caFile === undefined ? undefined : readPemFlag(o.caFile, 'broker-ca')
    const connectTimeoutMs = o.connectTimeoutMs
    const client = mqtt.connect(o.url, {
      protocolVersion: 5,
      clientId: `lambkin-admin-${randomBytes(6).toString('hex')}`,
      clean: true,
      reconnectPeriod: o.reconnectMs,
      connectTimeout: connectTimeoutMs,
      ...(ca === undefined ? {} : { ca }),
      ...o.mqtt
    })
    const self = new DynsecClient(client, o.timeoutMs)
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(failed(`the broker at ${where} did not accept a connection within ${connectTimeoutMs} ms (${self.#lastError}); is it running, and is --broker-admin right?`)), connectTimeoutMs)
        const done = (err?: Error): void => { clearTimeout(timer); client.off('connect', onConnect); client.off('error', onError); if (err === undefined) resolve(); else reject(err) }
        const onConnect = (): void => done()
        const onError = (err: Error & { code?: number }): void => {
          // A CONNACK refusal (bad user name or password, not authorized) will not heal by retrying.
          if (typeof err.code === 'number') done(failed(`the broker at ${where} refused the admin connection: ${err.message}; check the user name and password in --broker-admin`, err, { reasonCode: err.code }))
        }
        client.on('connect', onConnect)
        client.on('error', onError)
      })
      // MQTT.js rejects a SUBACK failure code (not authorized) as an error.
      const code = await client.subscribeAsync(DYNSEC_RESPONSE_TOPIC, { qos: 0 }).then((g) => g[0]?.qos ?? 0x80, (err: unknown) => errorMessage(err))
      if (typeof code !== 'number' || code >= 0x80) throw failed(`the broker at ${where} refused the subscription to ${DYNSEC_RESPONSE_TOPIC} (${code}): give this user a role that may subscribe to and receive $CONTROL/dynamic-security/# (lambkin broker dynsec-init makes one)`)
      await self.run([{ command: 'getDefaultACLAccess' }]).catch((err: LambkinError) => {
        throw failed(`the dynamic-security plugin at ${where} did not answer (${err.message}): is it loaded (plugin …/mosquitto_dynamic_security.so and plugin_opt_config_file in mosquitto.conf), and may this user publish to ${DYNSEC_TOPIC}?`, err)
      })
    } catch (err) {
      await self.close()
      throw err instanceof LambkinError ? err : failed(`the broker at ${where} cannot be used for device credentials: ${errorMessage(err)}`, err)
    }
    client.on('connect', () => o.log?.(`broker admin: connected to ${where}`))
    client.on('offline', () => o.log?.(`${ErrorCodes.BROKER_ADMIN_FAILED}: lost the admin connection to ${where} (${self.#lastError}); reconnecting. lambkin devices add, rotate and revoke fail until it is back`))
    return self
  }

  /** Whether commands can be sent now. */
  get connected (): boolean { return this.#client.connected }

  /**
   * Sends `commands` in one message (the plugin runs them in order) and resolves with each
   * one's answer, refusals included. Throws LAMBKIN_BROKER_ADMIN_FAILED when not connected,
   * when the broker refuses the publish, or when an answer does not come within timeoutMs.
   */
  async run (commands: DynsecCommand[]): Promise<DynsecAnswer[]> {
    if (this.#closed) throw failed('the broker admin client is closed')
    if (!this.#client.connected) throw failed(`not connected to the broker (${this.#lastError}); try again when it is back`)
    const ids = commands.map(() => `${this.#prefix}-${++this.#next}`)
    const answers = ids.map(async (id) => await new Promise<DynsecAnswer>((resolve, reject) => { this.#pending.set(id, { resolve, reject }) }))
    const timer = setTimeout(() => this.#fail(ids, `the broker did not answer ${commands.map((c) => c.command).join(', ')} within ${this.#timeoutMs} ms; the command may or may not have been applied`), this.#timeoutMs)
    try {
      const payload = JSON.stringify({ commands: commands.map((c, i) => ({ ...c, correlationData: ids[i] })) })
      this.#client.publish(DYNSEC_TOPIC, payload, { qos: 1 }, (err) => {
        // A PUBACK with a failure reason (not authorized) comes back as an error here.
        if (err !== undefined && err !== null) this.#fail(ids, `the broker refused the command on ${DYNSEC_TOPIC}: ${err.message}; this user needs a role that may publish there`)
      })
      return await Promise.all(answers)
    } finally {
      clearTimeout(timer)
      for (const id of ids) this.#pending.delete(id)
    }
  }

  /**
   * Like run, but throws LAMBKIN_BROKER_ADMIN_FAILED with the broker's reason for the first
   * command refused with an error not in `tolerated` (e.g. "Role not found" on a cleanup).
   */
  async runAll (commands: DynsecCommand[], tolerated: readonly string[] = []): Promise<DynsecAnswer[]> {
    const answers = await this.run(commands)
    for (const a of answers) {
      if (a.error !== undefined && !tolerated.includes(a.error)) throw failed(`the broker refused ${a.command}: ${a.error}`, undefined, { command: a.command, reason: a.error })
    }
    return answers
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#failAll('the broker admin client closed before the broker answered')
    await this.#client.endAsync(true).catch(() => {})
  }

  #answer (payload: Buffer): void {
    let body: unknown
    try { body = JSON.parse(payload.toString('utf8')) } catch { return }
    const responses = (body as { responses?: unknown }).responses
    if (!Array.isArray(responses)) return
    for (const r of responses as Array<Record<string, unknown>>) {
      const id = typeof r?.correlationData === 'string' ? r.correlationData : undefined
      const p = id === undefined ? undefined : this.#pending.get(id)
      if (p === undefined) continue
      p.resolve({ command: String(r.command), ...(typeof r.error === 'string' ? { error: r.error } : {}), ...(r.data === undefined ? {} : { data: r.data }) })
    }
  }

  #fail (ids: string[], message: string): void {
    for (const id of ids) this.#pending.get(id)?.reject(failed(message))
  }

  #failAll (message: string): void {
    this.#fail([...this.#pending.keys()], message)
  }
}

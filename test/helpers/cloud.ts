// Starts a real cloud (aedes, LevelDB, Fastify) in a temp folder for tests, with helpers to
// call its API and to connect MQTT.js clients as devices.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import type { IClientOptions, MqttClient } from 'mqtt'
import { Cloud } from '../../cloud-sync/index.js'
import type { CloudOptions } from '../../cloud-sync/index.js'
import { operatorToken } from '../../cloud-sync/cloud.js'

export interface CloudFixture {
  dir: string
  cloud: Cloud
  token: string
  api: <T = Record<string, unknown>>(method: string, route: string, body?: unknown, token?: string) => Promise<{ status: number, body: T }>
  addDevice: (id: string, group?: string) => Promise<string>
  connect: (id: string, secret: string, opts?: IClientOptions) => Promise<MqttClient>
  restart: (opts?: Partial<CloudOptions>) => Promise<void>
  cleanup: () => Promise<void>
}

export async function startCloud (opts: Partial<CloudOptions> = {}): Promise<CloudFixture> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-cloud-'))
  const clients: MqttClient[] = []
  const f: CloudFixture = {
    dir,
    cloud: await Cloud.create({ dataDir: dir, port: 0, apiPort: 0, ...opts }),
    token: operatorToken(dir).token,
    api: async (method, route, body, token) => {
      const res = await fetch(`${f.cloud.api.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${token ?? f.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body)
      })
      return { status: res.status, body: await res.json() as never }
    },
    addDevice: async (id, group) => {
      const r = await f.api<{ secret: string }>('POST', '/v1/devices', { id, group })
      if (r.status !== 201) throw new Error(`add ${id}: ${r.status} ${JSON.stringify(r.body)}`)
      return r.body.secret
    },
    connect: async (id, secret, o = {}) => {
      const c = mqtt.connect(f.cloud.broker.url, { clientId: id, username: id, password: secret, reconnectPeriod: 0, connectTimeout: 5000, ...o })
      clients.push(c)
      await new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve())
        c.once('error', reject)
        c.once('close', () => reject(new Error('closed before connack')))
      })
      return c
    },
    restart: async (o = {}) => {
      const port = f.cloud.broker.port
      const apiPort = f.cloud.api.port
      await f.cloud.close()
      f.cloud = await Cloud.create({ dataDir: dir, port, apiPort, ...opts, ...o })
    },
    cleanup: async () => {
      for (const c of clients) c.end(true)
      await f.cloud.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return f
}

/** Resolves with the next message on `topic` (subscribing first). Never left as an unhandled rejection. */
export function nextMessage (c: MqttClient, topic: string, timeoutMs = 5000): Promise<Buffer> {
  const p = new Promise<Buffer>((resolve, reject) => {
    const t = setTimeout(() => { c.off('message', on); reject(new Error(`no message on ${topic}`)) }, timeoutMs)
    const on = (t2: string, payload: Buffer): void => {
      if (t2 !== topic) return
      clearTimeout(t)
      c.off('message', on)
      resolve(payload)
    }
    c.on('message', on)
    c.subscribeAsync(topic, { qos: 1 }).catch((err: Error) => { clearTimeout(t); c.off('message', on); reject(err) })
  })
  p.catch(() => {})
  return p
}

// Two clients on one device id through a real Mosquitto (docs/scale-out.md, "Weaker than the
// embedded broker"): the broker closes each one's connection when the other connects and says
// nothing to the cloud; each `online` status carries the agent's boot id, so the cloud sees an
// `online` of another boot while the last was `online`, counts a takeover, and `lambkin status`
// says two clients share the id. One agent reconnecting (the same boot) is no takeover.
import { pgSuite } from '../helpers/pg-suite.js'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import * as assert from 'uvu/assert'
import { Agent } from '../../device/index.js'
import { loadDeviceConfig } from '../../device/config/index.js'
import { until } from './fixtures/deploy-world.js'
import { runLambkin } from './fixtures/lambkin-process.js'
import { scaleOutWorld } from './fixtures/scale-out-world.js'
import type { ScaleOutWorld } from './fixtures/scale-out-world.js'

const pg = pgSuite('takeovers on an external broker', { mosquitto: true })
const { realTest } = pg

interface DeviceView { state: string, takeovers: { count: number, recent: number }, problems: string[] }

async function device (w: ScaleOutWorld, api: string, id: string): Promise<DeviceView> {
  const res = await fetch(`${api}/v1/devices/${id}`, { headers: { authorization: `Bearer ${w.token()}` } })
  return await res.json() as DeviceView
}

/** An agent with its own data folder on the device id `id`. */
async function board (w: ScaleOutWorld, name: string, id: string, secret: string): Promise<Agent> {
  const dir = path.join(w.root, 'boards', name)
  mkdirSync(dir, { recursive: true })
  const file = path.join(dir, 'device.json')
  writeFileSync(file, JSON.stringify({ id, dataDir: path.join(dir, 'data'), functionsDir: path.join(dir, 'functions'), cloud: { url: `mqtt://127.0.0.1:${w.mosquitto.port}`, password: secret, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 500, uploadLogs: false } }))
  return await Agent.create(await loadDeviceConfig({ file, env: {} }))
}

realTest('two agents on one id through Mosquitto: takeovers counted and status says two clients share this id; one agent coming back is none', async () => {
  const w = await scaleOutWorld(pg.server)
  const agents: Agent[] = []
  try {
    const a = await w.startCloud('a')
    const b = await w.startCloud('b')
    const secrets = await w.addDevices(['twin-1', 'solo-1'])
    // One agent whose link drops and comes back: the same boot, so no takeover.
    const solo = await board(w, 'solo', 'solo-1', secrets.get('solo-1') as string)
    agents.push(solo)
    await until('solo-1 online', async () => (await device(w, a.api, 'solo-1')).state === 'online', 30_000)
    await w.mosquitto.kill()
    await w.mosquitto.start()
    agents.push(await board(w, 'first', 'twin-1', secrets.get('twin-1') as string))
    agents.push(await board(w, 'second', 'twin-1', secrets.get('twin-1') as string))
    await until('takeovers counted', async () => (await device(w, b.api, 'twin-1')).takeovers.recent >= 3, 60_000)
    for (const i of [a, b]) {
      const v = await device(w, i.api, 'twin-1')
      assert.match(v.problems.join('\n'), /two clients share this id: \d+ takeovers of its connection/, `${i.name}: ${JSON.stringify(v)}`)
    }
    const status = await runLambkin(['status'], { env: { LAMBKIN_API: a.api, LAMBKIN_TOKEN: w.token() } })
    assert.match(status.stdout + status.stderr, /twin-1: two clients share this id/)
    const cloudTakeovers = async (api: string): Promise<number> => ((await (await fetch(`${api}/v1/status`, { headers: { authorization: `Bearer ${w.token()}` } })).json()) as { cloud: { takeovers: number } }).cloud.takeovers
    assert.ok(await cloudTakeovers(a.api) + await cloudTakeovers(b.api) >= 3)
    assert.is((await device(w, a.api, 'solo-1')).takeovers.count, 0, 'one agent on its id is never a takeover')
  } finally {
    for (const ag of agents) await ag.close().catch(() => {})
    await w.cleanup()
  }
})

pg.test.run()

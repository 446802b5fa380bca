// Real agents for the deploy bench, several in this one process: each with its own LevelDB in
// a temp folder, one sandbox worker, a cloud link, and the bench's public key and the cloud's desired-state key trusted. Reads
// one JSON argument { cloudUrl, trustedKeys, root, devices: [{ id, secret }] }; prints
// {"started":n} once every agent is up, and closes them all on SIGTERM.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Agent } from '../../device/index.js'
import { loadDeviceConfig } from '../../device/config/index.js'

interface Spec { cloudUrl: string, trustedKeys: string[], root: string, devices: Array<{ id: string, secret: string }> }
const spec = JSON.parse(process.argv[2] as string) as Spec

const agents: Agent[] = []
for (const d of spec.devices) {
  const dir = path.join(spec.root, d.id)
  mkdirSync(path.join(dir, 'functions'), { recursive: true })
  const file = path.join(dir, 'device.json')
  writeFileSync(file, JSON.stringify({
    id: d.id,
    dataDir: path.join(dir, 'data'),
    functionsDir: path.join(dir, 'functions'),
    trustedKeys: spec.trustedKeys,
    invocation: { workers: 1 },
    metricsSnapshotMs: 3_600_000,
    cloud: { url: spec.cloudUrl, password: d.secret, heartbeatMs: 600_000, reconnectMs: 200, reconnectMaxMs: 1000 }
  }))
  agents.push(await Agent.create(await loadDeviceConfig({ file, env: {} })))
}
process.stdout.write(JSON.stringify({ started: agents.length }) + '\n')

const keepAlive = setInterval(() => {}, 1 << 30)
process.once('SIGTERM', () => {
  clearInterval(keepAlive)
  void Promise.all(agents.map(async (a) => await a.close())).then(() => process.exit(0), () => process.exit(1))
})

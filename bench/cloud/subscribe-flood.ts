// What one hostile device costs the cloud's event loop with a single SUBSCRIBE of N filters
// under its own down/ tree (docs/cloud.md, "Device credentials"). The cloud (embedded aedes,
// LevelDB) runs in this process; the device is MQTT.js in a child process, so building the
// packet costs this loop nothing. Prints one JSON line: the event loop's busy time and its
// longest stall between the packet's send and its outcome (SUBACK or close) plus 300 ms.
//
//   node dist/bench/cloud/subscribe-flood.js [distRoot] [filters=5000] [runs=3]
// distRoot: the build to measure (default this one), so an older build runs the same script.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(process.argv[2] ?? path.join(here, '..', '..'))
const filters = Number(process.argv[3] ?? 5000)
const runs = Number(process.argv[4] ?? 3)
const { startCloud } = await import(path.join(root, 'test', 'helpers', 'cloud.js')) as typeof import('../../test/helpers/cloud.js')

const CHILD = `
import mqtt from 'mqtt'
const [url, id, secret, n] = process.argv.slice(1)
const c = mqtt.connect(url, { clientId: id, username: id, password: secret, reconnectPeriod: 0, clean: false })
c.on('connect', () => {
  const subs = {}
  for (let i = 0; i < Number(n); i++) subs['lambkin/v1/' + id + '/down/k' + i] = { qos: 1 }
  const t0 = Date.now()
  c.on('packetreceive', (p) => { if (p.cmd === 'suback') { console.log('suback ' + (Date.now() - t0)); c.end(true) } })
  c.on('close', () => { console.log('close ' + (Date.now() - t0)); process.exit(0) })
  console.log('send')
  c.subscribe(subs, () => {})
})
c.on('error', (e) => { console.log('error ' + e.message) })
`

interface Run { outcome: string, busyMs: number, maxStallMs: number }

async function once (n: number): Promise<Run> {
  const f = await startCloud()
  try {
    const id = `flood-${n}`
    const secret = await f.addDevice(id)
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, f.cloud.broker.url, id, secret, String(filters)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
    const h = monitorEventLoopDelay({ resolution: 1 })
    let elu = performance.eventLoopUtilization()
    const outcome = await new Promise<string>((resolve) => {
      let buf = ''
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString()
        for (const line of buf.split('\n').slice(0, -1)) {
          if (line === 'send') { h.enable(); elu = performance.eventLoopUtilization() } else resolve(line.split(' ')[0])
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1)
      })
      child.on('exit', () => resolve('exit'))
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    const used = performance.eventLoopUtilization(elu)
    h.disable()
    child.kill()
    return { outcome, busyMs: Math.round(used.active), maxStallMs: Math.round(h.max / 1e6) }
  } finally {
    await f.cleanup()
  }
}

const out: Run[] = []
for (let i = 0; i < runs; i++) out.push(await once(i))
process.stdout.write(JSON.stringify({ build: root, filters, runs: out }) + '\n')

// One agent benchmark case per process: `node cases.js <relay|agent|rss>` prints a JSON line.
//  relay: publisher -(QoS 1)-> aedes -(QoS 1)-> a plain MQTT.js subscriber: messages/s received.
//  agent: the same publisher and broker, but the subscriber is the agent: each message runs a
//         function whose result is committed to LevelDB before the PUBACK: invocations/s.
//  rss:   an agent with 50 functions loaded, in a process of its own (`cases.js agent-proc`),
//         under a steady MQTT load: its RSS (all threads) from /proc, idle and at peak.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { Agent } from '../../device/index.js'
import { loadDeviceConfig } from '../../device/config/index.js'

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000)
const IN_FLIGHT = 500

async function broker (): Promise<{ url: string, close: () => Promise<void> }> {
  const b = await Aedes.createBroker()
  const server = net.createServer(b.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: async () => { await new Promise<void>((resolve) => b.close(() => resolve())); await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
}

/** Publishes `count` QoS 1 messages with at most IN_FLIGHT unacknowledged at the broker. */
async function publish (url: string, count: number, topic: (i: number) => string): Promise<void> {
  const pub = await mqtt.connectAsync(url)
  let next = 0
  const lane = async (): Promise<void> => { while (next < count) { const i = next++; await pub.publishAsync(topic(i), JSON.stringify({ i, value: 20 + (i % 10) }), { qos: 1 }) } }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
  await pub.endAsync()
}

async function agentFor (url: string, functions: number): Promise<{ agent: Agent, cleanup: () => void }> {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-agent-'))
  for (let i = 0; i < functions; i++) {
    const dir = path.join(root, 'functions', `f${i}`)
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, 'function.json'), JSON.stringify({ name: `f${i}`, triggers: [{ mqtt: `load/${i}`, qos: 1 }], limits: { memoryKiB: 16384 } }))
    writeFileSync(path.join(dir, 'index.js'), 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { i: e.payload.i, hot: e.payload.value > 25 } }')
  }
  const file = path.join(root, 'device.json')
  writeFileSync(file, JSON.stringify({ invocation: { workers: Number(process.env.BENCH_WORKERS ?? 2) } }))
  const config = await loadDeviceConfig({ file, flags: { id: 'bench', data: path.join(root, 'data'), functions: path.join(root, 'functions'), mqtt: url }, env: {} })
  const agent = await Agent.create(config)
  return { agent, cleanup: () => rmSync(root, { recursive: true, force: true }) }
}

async function main (): Promise<void> {
  const which = process.argv[2]
  const b = await broker()
  const out: Record<string, number> = {}
  if (which === 'relay') {
    const sub = await mqtt.connectAsync(b.url, { clientId: 'relay-sub', clean: false })
    await sub.subscribeAsync('load/#', { qos: 1 })
    let got = 0
    const all = new Promise<void>((resolve) => sub.on('message', () => { if (++got === MESSAGES) resolve() }))
    const t0 = performance.now()
    await Promise.all([publish(b.url, MESSAGES, () => 'load/0'), all])
    out.perSecond = MESSAGES / ((performance.now() - t0) / 1000)
    await sub.endAsync()
  } else if (which === 'agent') {
    const { agent, cleanup } = await agentFor(b.url, 1)
    let got = 0
    const all = new Promise<void>((resolve) => agent.on('invocation', () => { if (++got === MESSAGES) resolve() }))
    const t0 = performance.now()
    await Promise.all([publish(b.url, MESSAGES, () => 'load/0'), all])
    out.perSecond = MESSAGES / ((performance.now() - t0) / 1000)
    await agent.close()
    cleanup()
  } else if (which === 'agent-proc') {
    // The agent alone, pointed at the bench's broker; reports ready, then runs until stdin closes.
    await b.close()
    const { agent, cleanup } = await agentFor(process.argv[3], 50)
    let got = 0
    agent.on('invocation', () => { got++ })
    process.stdout.write(JSON.stringify({ ready: agent.functionNames.length }) + '\n')
    await new Promise((resolve) => { process.stdin.on('end', resolve); process.stdin.resume() })
    await agent.close()
    cleanup()
    process.stdout.write(JSON.stringify({ invocations: got }) + '\n')
    return
  } else {
    const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '')
    const child = spawn(process.execPath, [...flags, fileURLToPath(import.meta.url), 'agent-proc', b.url], { stdio: ['pipe', 'pipe', 'inherit'] })
    const lines: string[] = []
    let ready: () => void = () => {}
    const isReady = new Promise<void>((resolve) => { ready = resolve })
    child.stdout.on('data', (d: Buffer) => { lines.push(...d.toString().trim().split('\n')); if (lines.some((l) => l.includes('ready'))) ready() })
    await isReady
    const status = (): Record<string, number> => Object.fromEntries(readFileSync(`/proc/${child.pid as number}/status`, 'utf8').split('\n')
      .filter((l) => /^Vm(RSS|HWM)/.test(l)).map((l) => [l.split(':')[0], Number.parseInt(l.split(':')[1]) / 1024]))
    await new Promise((resolve) => setTimeout(resolve, 1000))
    out.idleRssMiB = status().VmRSS
    await publish(b.url, MESSAGES, (i) => `load/${i % 50}`)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    out.loadedRssMiB = status().VmRSS
    out.peakRssMiB = status().VmHWM
    const exited = new Promise((resolve) => child.on('exit', resolve))
    child.stdin.end()
    await exited
    out.invocations = JSON.parse(lines[lines.length - 1]).invocations as number
  }
  await b.close()
  process.stdout.write(JSON.stringify(out) + '\n')
}

await main()

// One agent benchmark case per process: `node cases.js <case>` prints a JSON line.
// The load generator (a publisher keeping IN_FLIGHT QoS 1 messages unacknowledged) always runs
// in a process of its own, so it never shares an event loop with what is measured. Two
// deployments, each against a plain aedes relay laid out the same way:
//  embedded:  publisher -> [aedes + agent] (the agent's --broker-port; the publisher's PUBACK
//             leaves after the result is committed)   vs   publisher -> [aedes + subscriber]
//  external:  publisher -> [aedes] -> [agent] (the agent's --mqtt link; it acknowledges to the
//             broker after commit)   vs   publisher -> [aedes] -> [MQTT.js subscriber]
//  rss:       an agent with 50 functions in a process of its own under a steady MQTT load:
//             its RSS (all threads) from /proc, idle and at peak.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import mqtt from 'mqtt'
import { Agent } from '../../device/index.js'
import { loadDeviceConfig } from '../../device/config/index.js'

/** Messages timed, after WARMUP untimed ones (JIT and wasm tier-up settle; a board runs for days). */
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 50_000)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10_000)
const TOTAL = WARMUP + MESSAGES
const IN_FLIGHT = 500
const self = fileURLToPath(import.meta.url)

async function broker (): Promise<{ url: string, close: () => Promise<void> }> {
  // Imported here, not at the top: the agent-proc child runs this file too, and aedes loaded
  // there for nothing added 2-4 MiB to the RSS the rss case reports.
  const { Aedes } = await import('aedes')
  const b = await Aedes.createBroker()
  const server = net.createServer(b.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: async () => { await new Promise<void>((resolve) => b.close(() => resolve())); await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
}

/** Publishes `count` QoS 1 messages with at most IN_FLIGHT unacknowledged at the broker. */
async function publish (pub: mqtt.MqttClient, count: number, topic: (i: number) => string): Promise<void> {
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      await pub.publishAsync(topic(i), JSON.stringify({ i, value: 20 + (i % 10) }), { qos: 1 })
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
}

async function agentFor (functions: number, link: { mqtt: string } | { brokerPort: string }): Promise<{ agent: Agent, cleanup: () => void }> {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-agent-'))
  for (let i = 0; i < functions; i++) {
    const dir = path.join(root, 'functions', `f${i}`)
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, 'function.json'), JSON.stringify({ name: `f${i}`, triggers: [{ mqtt: `load/${i}`, qos: 1 }], limits: { memoryKiB: 16384 } }))
    writeFileSync(path.join(dir, 'index.js'), 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { i: e.payload.i, hot: e.payload.value > 25 } }')
  }
  const file = path.join(root, 'device.json')
  const invocation: Record<string, number> = { workers: Number(process.env.BENCH_WORKERS ?? 2) }
  if (process.env.BENCH_MAX_CONCURRENT !== undefined) invocation.maxConcurrent = Number(process.env.BENCH_MAX_CONCURRENT)
  writeFileSync(file, JSON.stringify({ invocation }))
  const config = await loadDeviceConfig({ file, flags: { id: 'bench', data: path.join(root, 'data'), functions: path.join(root, 'functions'), ...link }, env: {} })
  const agent = await Agent.create(config)
  return { agent, cleanup: () => rmSync(root, { recursive: true, force: true }) }
}

/** A child process running one role of this file; it prints lines, the parent waits for them. */
function child (args: string[], flags: string[] = []): { proc: ChildProcess, line: (text: string) => Promise<string>, go: () => void } {
  const proc = spawn(process.execPath, [...flags, self, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  const waiters: Array<() => void> = []
  ;(proc.stdout as NodeJS.ReadableStream).on('data', (d: Buffer) => { out += d.toString(); for (const w of waiters.splice(0)) w() })
  const line = (text: string): Promise<string> => new Promise((resolve, reject) => {
    const check = (): void => {
      const found = out.split('\n').find((l) => l.includes(text))
      if (found !== undefined) resolve(found)
      else if (proc.exitCode !== null) reject(new Error(`${args[0]} exited (${proc.exitCode}) before printing ${text}`))
      else waiters.push(check)
    }
    proc.once('exit', () => { for (const w of waiters.splice(0)) w() })
    check()
  })
  return { proc, line, go: () => (proc.stdin as NodeJS.WritableStream).write('go\n') }
}

/** Waits for the parent's "go" on stdin. */
const go = (): Promise<void> => new Promise((resolve) => { process.stdin.once('data', () => resolve()); process.stdin.resume() })

/** Counts messages taken: `warm` resolves after WARMUP of them, `all` after TOTAL. */
function counter (): { hit: () => void, warm: Promise<void>, all: Promise<void> } {
  let got = 0
  let warmed: () => void = () => {}
  let done: () => void = () => {}
  const warm = new Promise<void>((resolve) => { warmed = resolve })
  const all = new Promise<void>((resolve) => { done = resolve })
  return { hit: () => { if (++got === WARMUP) warmed(); if (got === TOTAL) done() }, warm, all }
}

/** Starts the publisher child and times the MESSAGES taken between `warm` and `all`. */
async function timed (url: string, taken: () => { warm: Promise<unknown>, all: Promise<unknown> }): Promise<number> {
  const pub = child(['pub', url])
  await pub.line('ready')
  const { warm, all } = taken()
  pub.go()
  await warm
  const t0 = performance.now()
  await all
  const perSecond = MESSAGES / ((performance.now() - t0) / 1000)
  await pub.line('published')
  return perSecond
}

async function subscriber (url: string, onMessage: () => void): Promise<mqtt.MqttClient> {
  const sub = await mqtt.connectAsync(url, { clientId: 'relay-sub', clean: false })
  await sub.subscribeAsync('load/#', { qos: 1 })
  sub.on('message', onMessage)
  return sub
}

const roles: Record<string, () => Promise<Record<string, number> | undefined>> = {
  // Child roles.
  async pub () {
    const client = await mqtt.connectAsync(process.argv[3])
    process.stdout.write('ready\n')
    await go()
    await publish(client, TOTAL, () => 'load/0')
    await client.endAsync()
    process.stdout.write('published\n')
    return undefined
  },
  async 'sub-proc' () {
    const c = counter()
    const sub = await subscriber(process.argv[3], c.hit)
    process.stdout.write('ready\n')
    await c.warm
    process.stdout.write('warm\n')
    await c.all
    process.stdout.write('done\n')
    await sub.endAsync()
    return undefined
  },
  async 'agent-proc' () {
    // The agent alone, pointed at a broker; reports ready, "warm" and "done" as invocations
    // pass WARMUP and TOTAL, and runs until stdin closes.
    const { agent, cleanup } = await agentFor(Number(process.argv[4]), { mqtt: process.argv[3] })
    let got = 0
    agent.on('invocation', () => {
      if (++got === WARMUP) process.stdout.write('warm\n')
      if (got === TOTAL) process.stdout.write('done\n')
    })
    process.stdout.write(JSON.stringify({ ready: agent.functionNames.length }) + '\n')
    await new Promise((resolve) => { process.stdin.on('end', resolve); process.stdin.resume() })
    await agent.close()
    cleanup()
    process.stdout.write(JSON.stringify({ invocations: got }) + '\n')
    return undefined
  },

  // Measured cases.
  async 'relay-embedded' () {
    const b = await broker()
    const c = counter()
    const sub = await subscriber(b.url, c.hit)
    const perSecond = await timed(b.url, () => c)
    await sub.endAsync()
    await b.close()
    return { perSecond }
  },
  async 'agent-embedded' () {
    const { agent, cleanup } = await agentFor(1, { brokerPort: '0' })
    const c = counter()
    agent.on('invocation', c.hit)
    const perSecond = await timed(agent.brokerUrl as string, () => c)
    await agent.close()
    cleanup()
    return { perSecond }
  },
  async 'relay-external' () {
    const b = await broker()
    const sub = child(['sub-proc', b.url])
    await sub.line('ready')
    const perSecond = await timed(b.url, () => ({ warm: sub.line('warm'), all: sub.line('done') }))
    await new Promise((resolve) => sub.proc.once('exit', resolve))
    await b.close()
    return { perSecond }
  },
  async 'agent-external' () {
    const b = await broker()
    const agent = child(['agent-proc', b.url, '1'])
    await agent.line('ready')
    const perSecond = await timed(b.url, () => ({ warm: agent.line('warm'), all: agent.line('done') }))
    const exited = new Promise((resolve) => agent.proc.once('exit', resolve))
    ;(agent.proc.stdin as NodeJS.WritableStream).end()
    await exited
    await b.close()
    return { perSecond }
  },
  async rss () {
    const b = await broker()
    const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '')
    const agent = child(['agent-proc', b.url, '50'], flags)
    await agent.line('ready')
    const pid = agent.proc.pid as number
    const status = (): Record<string, number> => Object.fromEntries(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')
      .filter((l) => /^Vm(RSS|HWM)/.test(l)).map((l) => [l.split(':')[0], Number.parseInt(l.split(':')[1]) / 1024]))
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const out: Record<string, number> = { idleRssMiB: status().VmRSS }
    const pub = await mqtt.connectAsync(b.url)
    await publish(pub, TOTAL, (i) => `load/${i % 50}`)
    await pub.endAsync()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    out.loadedRssMiB = status().VmRSS
    out.peakRssMiB = status().VmHWM
    const exited = new Promise((resolve) => agent.proc.once('exit', resolve))
    ;(agent.proc.stdin as NodeJS.WritableStream).end()
    await exited
    out.invocations = JSON.parse((await agent.line('invocations')).trim()).invocations as number
    await b.close()
    return out
  }
}

const role = roles[process.argv[2]]
if (role === undefined) throw new Error(`unknown case ${process.argv[2]}; one of ${Object.keys(roles).join(', ')}`)
const out = await role()
if (out !== undefined) process.stdout.write(JSON.stringify(out) + '\n')
process.exit(0)

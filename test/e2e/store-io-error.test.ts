// Ack after commit when the store hits an I/O error (docs/durability.md, "A commit that fails is not acknowledged"): an agent out of file
// descriptors (its limit lowered with prlimit, the rest taken by idle sockets to its embedded
// broker) cannot open LevelDB's next log file. The messages whose commits fail get no PUBACK;
// once the descriptors are free again the sensor re-sends them, and every message ends with
// its result. Real agent process, aedes, LevelDB, MQTT.js.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { readOutbox, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import { freePort } from '../helpers/brokers.js'

const N = 60

async function until (what: string, check: () => boolean, boundMs = 60_000): Promise<void> {
  const end = Date.now() + boundMs
  while (!check()) {
    if (Date.now() > end) assert.unreachable(`${what}: not reached`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

const canRun = existsSync('/usr/bin/prlimit') && existsSync('/proc/self/fd')

test('[ack after commit] LAMBKIN_STORE_ERROR "Too many open files": no PUBACK for what was not stored; every message has its result once the store works again', async () => {
  if (!canRun) return
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-emfile-'))
  const data = path.join(root, 'data')
  // 200 KB results: LevelDB's 4 MiB write buffer fills after ~20 commits and needs new files.
  const functions = writeFunctions(path.join(root, 'functions'), {
    big: { manifest: { triggers: [{ mqtt: 'io/+', qos: 1 }] }, code: "export default (e) => ({ id: e.payload, pad: 'z'.repeat(200000) })" }
  })
  const port = await freePort()
  const idle: net.Socket[] = []
  const agent = startLambkin(['device', '--id', 'e2e-emfile', '--data', data, '--functions', functions, '--broker-port', String(port), '--quiet'])
  const sensor = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'io-sensor', clean: false, reconnectPeriod: 200 })
  try {
    await agent.waitFor('stdout', /ready/)
    await new Promise<void>((resolve) => sensor.once('connect', () => resolve()))
    const pid = agent.child.pid as number
    const open = (): number => readdirSync(`/proc/${pid}/fd`).length
    // A few descriptors of headroom, then idle sockets take them.
    const limit = open() + 6
    execFileSync('/usr/bin/prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`])
    for (let i = 0; i < 12; i++) {
      const s = net.connect(port, '127.0.0.1')
      s.on('error', () => {})
      idle.push(s)
    }
    await until('the agent is out of descriptors', () => open() >= limit - 1)
    const acked = new Set<number>()
    for (let i = 0; i < N; i++) void sensor.publishAsync(`io/${i}`, String(i), { qos: 1 }).then(() => acked.add(i), () => {})
    await agent.waitFor('stderr', /LAMBKIN_STORE_ERROR[^\n]*(Too many open files|EMFILE)/i, 60_000)
    // The store works again once the idle sockets go; the sensor re-sends what was not acknowledged.
    for (const s of idle) s.destroy()
    await until(`all ${N} acknowledged (have ${acked.size})`, () => acked.size === N, 90_000)
    const stopped = await agent.stop('SIGTERM')
    assert.is(stopped.code, 0)
    const ids = new Set((await readOutbox(data)).records.filter((r) => r.kind === 'result').map((r) => Number((r.data.result as { id: unknown }).id)))
    const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !ids.has(i))
    assert.equal(missing, [], 'acknowledged messages without a stored result')
  } finally {
    for (const s of idle) s.destroy()
    sensor.end(true)
    if (agent.child.exitCode === null) await agent.stop('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

// A device's backlog across restarts of its cloud [W3]: `lambkin status` shows the last backlog
// the device reported, from the first request the restarted cloud answers until the device
// reports again, never a 0 it did not report; a device that is not online shows when it
// reported it. A real `lambkin cloud` child process stopped with SIGTERM and with SIGKILL, a
// real agent whose daily upload cap keeps records in its outbox (reaching the cloud through a
// TCP relay that can keep it away), the CLI as a user runs it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { startRelay } from '../helpers/tcp-relay.js'
import type { TcpRelay } from '../helpers/tcp-relay.js'
import { deployWorld, until } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'

interface Row { id: string, state: string, backlog: { records: number, bytes: number } | null, backlogAt: number | null }

let w: DeployWorld
let relay: TcpRelay
test.before(async () => {
  w = await deployWorld()
  relay = await startRelay({ port: Number(new URL(w.brokerUrl).port) })
})
test.after(async () => {
  await relay?.close()
  await w?.cleanup()
})

const status = async (): Promise<Row> => {
  const r = await w.lambkin(['status', '--json'])
  assert.is(r.code, 0, r.stderr)
  return (JSON.parse(r.stdout) as { devices: Row[] }).devices.find((d) => d.id === 'gh-01') as Row
}

test('[W3] an offline board\'s last backlog is shown from the first answer of a restarted cloud, after SIGTERM and SIGKILL; a board away shows its last report until it reports again', async () => {
  // 1 KiB a day: a few results go up, the rest wait in the outbox, and heartbeats say how many.
  const a = w.agent('gh-01', await w.addDevice('gh-01'), { cloud: { url: relay.url, heartbeatMs: 1000, dailyUploadBytes: 1024 } })
  const dir = path.join(path.dirname(a.configFile), 'functions', 'tick')
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'function.json'), JSON.stringify({ name: 'tick', triggers: [{ schedule: '* * * * * *' }] }))
  writeFileSync(path.join(dir, 'index.js'), 'export default () => ({ pad: "x".repeat(300) })\n')
  await a.start()
  await until('a backlog of 3 reported', async () => ((await status()).backlog?.records ?? 0) >= 3, 30_000)

  // A board away from its cloud: it keeps running, its backlog grows, and the restarted cloud
  // shows the last one it reported, with when, until the board is back and says more.
  const reported = await status()
  relay.refuse = true
  await w.stopCloud('SIGTERM')
  const stoppedAt = Date.now()
  await w.startCloud()
  const first = await status()
  assert.is(first.state, 'offline')
  assert.ok(first.backlog !== null && first.backlog.records >= (reported.backlog?.records ?? 0), `shown ${JSON.stringify(first.backlog)}, reported before ${JSON.stringify(reported.backlog)}`)
  assert.ok(first.backlogAt !== null && first.backlogAt <= stoppedAt, 'reported before the cloud stopped')
  const table = (await w.lambkin(['status'])).stdout
  assert.match(table, new RegExp(`^gh-01\\s+offline\\s.*\\s${first.backlog.records} \\([^)]*\\) as of \\d{4}-\\d\\d-\\d\\dT`, 'm'))
  relay.refuse = false
  await until('the board back with a larger backlog', async () => {
    const s = await status()
    return s.state === 'online' && (s.backlog?.records ?? 0) > first.backlog!.records
  }, 30_000)
  assert.not.match((await w.lambkin(['status'])).stdout, / as of /, 'an online board\'s backlog is current')

  // The board stops cleanly: its last heartbeat says what it leaves with.
  await a.stop()
  await until('the board offline', async () => (await status()).state === 'offline')
  const left = await status()
  assert.ok(left.backlog !== null && left.backlog.records > 0, JSON.stringify(left))
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    await w.stopCloud(signal)
    await w.startCloud()
    const s = await status()
    assert.equal([s.state, s.backlog, s.backlogAt], ['offline', left.backlog, left.backlogAt], `after ${signal}`)
  }
})

test.run()

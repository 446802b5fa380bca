// A device's status is right when its cloud returns and while it is away: the backlog it
// stored while the cloud was down is shown drained within a second of the upload, not at the
// next heartbeat (heartbeats here are 10 minutes apart); and once the board stops, `lambkin
// status` shows its last known agent version, functions and backlog, not blanks [W3]. A real
// `lambkin cloud` child process, a real agent, the CLI as a user runs it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { deployWorld, until } from './fixtures/deploy-world.js'

interface StatusRow { id: string, state: string, agent: string | null, functions: Array<{ name: string }>, backlog: { records: number } | null }

test('[W3] backlog drained shows at once after the cloud returns; an offline board keeps its last known agent, functions and backlog', async () => {
  const w = await deployWorld()
  try {
    const a = w.agent('gh-01', await w.addDevice('gh-01'), { cloud: { heartbeatMs: 600_000 } })
    const dir = path.join(path.dirname(a.configFile), 'functions', 'echo')
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, 'function.json'), JSON.stringify({ name: 'echo' }))
    writeFileSync(path.join(dir, 'index.js'), 'export default (e) => ({ got: e.n ?? null })\n')
    const agent = await a.start()
    const status = async (): Promise<StatusRow> => {
      const r = await w.lambkin(['status', '--json'])
      return ((JSON.parse(r.stdout) as { devices: StatusRow[] }).devices).find((d) => d.id === 'gh-01') as StatusRow
    }
    await until('the board online', async () => (await status()).state === 'online')

    await w.stopCloud('SIGKILL')
    for (let n = 0; n < 20; n++) assert.ok((await agent.invoke('echo', { n })).ok)
    await w.startCloud()
    // Connected again: the heartbeat on connect says 20 waiting; once they are stored, 0.
    await until('the drained backlog in status', async () => {
      const s = await status()
      return s.state === 'online' && s.backlog?.records === 0
    }, 30_000)
    const r = await w.lambkin(['results', 'gh-01', 'echo', '--limit', '100', '--json'])
    assert.is((JSON.parse(r.stdout) as { records: unknown[] }).records.length, 20)

    await a.stop()
    await until('the board offline', async () => (await status()).state === 'offline')
    const away = await status()
    assert.ok(away.agent !== null && away.agent !== '', `agent: ${String(away.agent)}`)
    assert.equal(away.functions.map((f) => f.name), ['echo'])
    assert.is(away.backlog?.records, 0)
    const table = await w.lambkin(['status'])
    assert.match(table.stdout, /^gh-01\s+offline\s+\S+\s+\S+\s+echo\s+0 \(0 B\)/m)
  } finally {
    await w.cleanup()
  }
})

test.run()

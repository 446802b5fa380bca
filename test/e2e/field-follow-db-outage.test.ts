// Field: the cloud's PostgreSQL restarted (an upgrade, a failover, a host reboot) while an
// operator follows a deploy or tails a device's logs. The cloud answers 503
// LAMBKIN_DB_UNAVAILABLE meanwhile and resumes by itself (docs/scale-out.md, "Faults"); the
// followers must wait for it as they wait for a cloud that does not answer (docs/cli.md), not
// exit with the code while the rollout goes on. A real `lambkin cloud --db` child process, a
// real PostgreSQL stopped for a few seconds, a real agent, and the CLI as child processes.
import { pgSuite } from '../helpers/pg-suite.js'
import * as assert from 'uvu/assert'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { deployWorld, until } from './fixtures/deploy-world.js'
import { startLambkin } from './fixtures/lambkin-process.js'

const pg = pgSuite('followers through a database outage')
const { test, realTest } = pg

const ticks = (out: string): number[] => [...out.matchAll(/\[ticker\] info tick (\d+)/g)].map((m) => Number(m[1]))

realTest('deploy and logs -f followed while PostgreSQL is down for a few seconds: both wait and go on, neither exits with LAMBKIN_DB_UNAVAILABLE', async () => {
  const w = await deployWorld({ cloudArgs: ['--db', await pg.server.createDatabase()] })
  try {
    const a = w.agent('db-1', await w.addDevice('db-1', 'g'))
    await w.addDevice('db-off', 'g') // never connects: the followed deploy waits for it until --timeout
    const fn = path.join(path.dirname(a.dataDir), 'functions', 'ticker')
    mkdirSync(fn, { recursive: true })
    writeFileSync(path.join(fn, 'function.json'), JSON.stringify({ name: 'ticker', triggers: [{ schedule: '* * * * * *', timezone: 'UTC' }] }))
    writeFileSync(path.join(fn, 'index.js'), 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; ctx.log("tick " + ctx.state.n); return ctx.state.n }\n')
    await a.start()
    const logs = startLambkin(['logs', 'db-1', '-f'], { env: w.env })
    const deploy = startLambkin(['deploy', w.fn('meter', 'export default () => ({ v: 1 })'), '--to', 'group:g', '--timeout', '40'], { env: w.env })
    try {
      await logs.waitFor('stdout', /tick \d+/)
      await deploy.waitFor('stdout', /db-1 +applied/, 60_000)
      await pg.server.stop('fast')
      await until('the API to answer 503', async () => (await fetch(`${w.env.LAMBKIN_API}/v1/health`)).status === 503, 30_000)
      await new Promise((resolve) => setTimeout(resolve, 6000))
      await pg.server.start()
      const before = Math.max(...ticks(logs.stdout()))
      await until('logs -f to print lines logged after the outage, or exit', () => logs.child.exitCode !== null || Math.max(...ticks(logs.stdout())) >= before + 3, 60_000)
      assert.is(logs.child.exitCode, null, `logs -f exited: ${logs.stderr()}`)
      const seen = ticks(logs.stdout())
      assert.equal(seen, [...new Set(seen)].sort((x, y) => x - y), 'each line once, in order')
      // The deploy goes on following to its end: db-off stays offline past --timeout (exit 3).
      const { code } = await deploy.exited
      assert.not.match(deploy.stderr(), 'LAMBKIN_DB_UNAVAILABLE')
      assert.is(code, 3, `deploy: ${deploy.stdout()}${deploy.stderr()}`)
      assert.match(deploy.stdout(), /db-1 +applied/)
    } finally {
      await logs.stop('SIGKILL')
      await deploy.stop('SIGKILL')
    }
  } finally {
    await w.cleanup()
  }
})

test.run()

// `lambkin logs <device> -f` (README, "Watch it") while the cloud restarts, as it does for an
// upgrade or a reboot of its host: the follower waits for the cloud to answer again, as a
// followed deploy does (docs/cli.md), and goes on printing new lines, none twice. A real
// `lambkin cloud` child process stopped and started on the same data and ports, a real agent
// running a function on a schedule, and `lambkin logs -f` as a child process. Ctrl-C ends it at
// once, its long poll on a quiet device cut short.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { deployWorld, until } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'
import { startLambkin } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

let w: DeployWorld
let follower: LambkinProcess | undefined

test.after(async () => {
  await follower?.stop('SIGKILL')
  await w?.cleanup()
})

const ticks = (out: string): number[] => [...out.matchAll(/\[ticker\] info tick (\d+)/g)].map((m) => Number(m[1]))

test('logs -f outlives a cloud restart: it prints the lines logged after the cloud is back, each once', async () => {
  w = await deployWorld()
  const a = w.agent('tail-1', await w.addDevice('tail-1'))
  const fn = path.join(path.dirname(a.dataDir), 'functions', 'ticker')
  mkdirSync(fn, { recursive: true })
  writeFileSync(path.join(fn, 'function.json'), JSON.stringify({ name: 'ticker', triggers: [{ schedule: '* * * * * *', timezone: 'UTC' }] }))
  writeFileSync(path.join(fn, 'index.js'), 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; ctx.log("tick " + ctx.state.n); return ctx.state.n }\n')
  await a.start()

  follower = startLambkin(['logs', 'tail-1', '-f'], { env: w.env })
  await follower.waitFor('stdout', /tick \d+/)
  await w.stopCloud('SIGTERM')
  const before = Math.max(...ticks(follower.stdout()))
  await w.startCloud()
  const f = follower
  await until('the follower to print lines logged after the restart, or exit', () => f.child.exitCode !== null || Math.max(...ticks(f.stdout())) >= before + 3, 60_000)
  assert.is(f.child.exitCode, null, `logs -f exited: ${f.stderr()}`)
  const seen = ticks(f.stdout())
  assert.equal(seen, [...new Set(seen)].sort((x, y) => x - y), 'each line once, in order')
})

test('Ctrl-C stops logs -f on a quiet device at once, not when its 25-second long poll ends', async () => {
  await w.addDevice('quiet-1')
  const p = startLambkin(['logs', 'quiet-1', '-f'], { env: w.env })
  // The first page is empty; wait until the follower sits in its long poll.
  await until('the follower to wait', () => p.child.exitCode === null && p.stdout() === '')
  await new Promise((resolve) => setTimeout(resolve, 1500))
  // stop() sends SIGKILL after 10 s: an exit by Ctrl-C is code 0, with no signal.
  const end = await p.stop('SIGINT', 10_000)
  assert.equal(end, { code: 0, signal: null }, p.stderr())
})

test.run()

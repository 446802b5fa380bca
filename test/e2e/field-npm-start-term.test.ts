// `npm start`, then SIGTERM to npm alone (`kill <pid of npm>`, a process manager or CI runner
// stopping its job, `docker stop` with npm as the container's first process). npm forwards the
// signal to the shell it runs the script in; without `exec` in the script, that shell died of it
// and the demo below it never heard it, so the demo, its cloud and both boards ran on, orphaned,
// holding their ports and their temporary folder. Real npm, real `lambkin demo`.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { ROOT } from './fixtures/lambkin-process.js'
import { alive, childrenOf } from './fixtures/process-tree.js'
import { until } from './fixtures/deploy-world.js'

/** `pid` and every process below it, parents first. */
function tree (pid: number): number[] {
  const all = [pid]
  for (let i = 0; i < all.length; i++) all.push(...childrenOf(all[i] as number))
  return all
}

test('SIGTERM to npm alone stops the demo it started, its cloud and boards, and removes its folder', async () => {
  if (spawnSync('npm', ['--version'], { stdio: 'ignore' }).error !== undefined) {
    console.log('skipped: npm is not on PATH')
    return
  }
  // --ignore-scripts skips prestart (the build) but still runs the start script itself.
  const npm = spawn('npm', ['start', '--ignore-scripts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  npm.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  npm.stderr.setEncoding('utf8').on('data', (s: string) => { out += s })
  let npmDone = false
  const exited = new Promise<void>((resolve) => npm.on('exit', () => { npmDone = true; resolve() }))
  let procs: number[] = []
  try {
    // Once every deploy has ended, the tree is steady: the demo, its cloud and the two boards.
    await until('the examples deployed', () => /deployed \d+ examples to both boards/.test(out), 180_000)
    const root = (out.match(/staging keys, examples and two boards in (\S+)/) ?? [])[1]
    procs = tree(npm.pid as number).slice(1)
    assert.ok(procs.length >= 4, `the demo, its cloud and two boards run below npm: ${procs.join(' ')}`)
    npm.kill('SIGTERM')
    await until('npm to exit', () => npmDone, 60_000)
    await until('the demo and its children to be gone', () => procs.every((p) => !alive(p)), 20_000).catch(() => {})
    assert.equal(procs.filter(alive), [], `processes left running after npm was stopped:\n${out.slice(-3000)}`)
    assert.ok(root !== undefined && !existsSync(root), `the demo's folder ${String(root)} is left`)
  } finally {
    for (const p of procs) if (alive(p)) process.kill(p, 'SIGKILL')
    if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL')
    await exited
  }
})

test.run()

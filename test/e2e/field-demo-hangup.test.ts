// `npm start` in a terminal window that is closed (or an ssh session that drops) instead of
// Ctrl-C: the demo gets SIGHUP. Its cloud and boards run in their own process groups (so a
// Ctrl-C reaches the demo alone), so the hang-up reaches only the demo: it must stop them as
// for Ctrl-C. Before, SIGHUP's default action ended the demo at once and left the cloud and both
// boards running, holding their ports, with the temporary folder kept. Real `lambkin demo`.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startLambkin } from './fixtures/lambkin-process.js'
import { alive, childrenOf } from './fixtures/process-tree.js'
import { until } from './fixtures/deploy-world.js'

test('SIGHUP (the terminal closed) stops the demo\'s cloud and boards and removes its folder, as Ctrl-C does', async () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-demo-hup-'))
  const p = startLambkin(['demo'], { cwd })
  let kids: number[] = []
  try {
    await p.waitFor('stdout', /greenhouse\s+lambkin device greenhouse ready/, 60_000)
    await p.waitFor('stdout', /office\s+lambkin device office ready/, 60_000)
    const root = (p.stdout().match(/staging keys, examples and two boards in (\S+)/) ?? [])[1]
    kids = childrenOf(p.child.pid as number)
    assert.ok(kids.length >= 3, `the cloud and two boards are the demo's children: ${kids.join(' ')}`)
    const end = await p.stop('SIGHUP', 60_000)
    assert.is(end.signal, null, `the demo ended by the signal's default action, not by stopping: ${p.stderr()} ${p.stdout().slice(-3000)}`)
    await until('the demo\'s children to be gone', () => kids.every((k) => !alive(k)), 10_000).catch(() => {})
    assert.equal(kids.filter(alive), [], 'processes the demo left running')
    assert.ok(root !== undefined && !existsSync(root), `the demo's folder ${String(root)} is left`)
  } finally {
    for (const k of kids) if (alive(k)) process.kill(k, 'SIGKILL')
    await p.stop('SIGKILL')
    rmSync(cwd, { recursive: true, force: true })
  }
})

test.run()

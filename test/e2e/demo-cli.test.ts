// `lambkin demo` (what `npm start` runs), through the real path: a `lambkin cloud` and two
// `lambkin device` boards as child processes, the examples signed and deployed with `lambkin
// deploy` (progress shown live), simulated sensors over MQTT and a sysfs-style file, and a guide
// whose commands work as printed. "cloud" on its input stops the cloud (the boards buffer) and
// starts it again (the backlog drains); Ctrl-C stops everything, leaving no process behind.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { runLambkin, startLambkin } from './fixtures/lambkin-process.js'
import { alive, childrenOf } from './fixtures/process-tree.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

/** The text after `mark` in stdout, so a wait looks only at what came since. */
const since = (p: LambkinProcess, mark: number): string => p.stdout().slice(mark)

async function waitSince (p: LambkinProcess, mark: number, re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  await p.waitFor('stdout', new RegExp(`^[^]{${mark}}[^]*?(?:${re.source})`, re.flags), timeoutMs)
  return since(p, mark).match(re) as RegExpMatchArray
}

test('npm start: cloud, two boards, examples deployed live, a guide that works, the cloud away and back, Ctrl-C leaves nothing', async () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-demo-'))
  const p = startLambkin(['demo'], { cwd, stdin: 'pipe' })
  let exited = false
  try {
    // Progress first, before anything has started.
    await p.waitFor('stdout', /^lambkin demo: .*Starting…\n/)
    assert.match(p.stdout(), /^lambkin demo: a cloud and two boards/)
    await p.waitFor('stdout', /\[1\/5\] staging/)
    const ready = await p.waitFor('stdout', /cloud\s+lambkin cloud ready: broker \S+; api (\S+); operator token in (\S+)/, 60_000)
    const env = { LAMBKIN_API: ready[1], LAMBKIN_TOKEN: readFileSync(ready[2], 'utf8').trim() }
    await p.waitFor('stdout', /greenhouse\s+lambkin device greenhouse ready/, 60_000)
    await p.waitFor('stdout', /office\s+lambkin device office ready/, 60_000)
    // Each deploy's own progress, per board, as `lambkin deploy` prints it.
    await p.waitFor('stdout', /deploy threshold-alarm\s+greenhouse\s+applied/, 120_000)
    await p.waitFor('stdout', /deploy threshold-alarm\s+office\s+applied/, 120_000)
    await p.waitFor('stdout', /demo\s+deployed 6 examples to both boards/, 180_000)
    const guide = (await p.waitFor('stdout', /Try it, in another terminal:\n[^]*?Ctrl-C stops everything\.\n/))[0]
    // The greenhouse's MQTT readings run the deployed threshold-alarm on its board; the
    // thermal zone file runs fan-controller.
    await p.waitFor('stdout', /greenhouse\s+\[threshold-alarm\] info: alarm (raised|cleared) greenhouse \d/, 60_000)
    await p.waitFor('stdout', /(greenhouse|office)\s+\[fan-controller\] info: fan (on|off) at \d/, 90_000)

    for (const want of [`the dashboard\\s+${ready[1]}/`, 'mosquitto_sub -p \\d+', 'mosquitto_pub -p \\d+ -t sensors/greenhouse/temperature', 'lambkin invoke --device greenhouse hello', 'lambkin deploy \\S+/examples/threshold-alarm --to group:demo', 'lambkin deploy \\S+/try/threshold-alarm --to group:demo', 'type "cloud" and Enter here', 'lambkin status']) {
      assert.match(guide, new RegExp(want), want)
    }
    // The guide's commands work as printed.
    const invoked = await runLambkin(['invoke', '--device', 'greenhouse', 'hello', '--event', '{"name":"you"}', '--json'], { env })
    assert.is(invoked.code, 0, invoked.stderr)
    assert.match(invoked.stdout, /hello, you/)
    const brokenDir = (/lambkin deploy (\S+\/try\/threshold-alarm) --to group:demo/.exec(guide) as RegExpMatchArray)[1]
    const keyFile = (/LAMBKIN_KEY=(\S+)/.exec(guide) as RegExpMatchArray)[1]
    let mark = p.stdout().length
    const broken = await runLambkin(['deploy', brokenDir, '--to', 'group:demo'], { env: { ...env, LAMBKIN_KEY: keyFile } })
    // The deploy ends on the boards' verdict: rolled back, so it fails.
    assert.is(broken.code, 1, broken.stdout + broken.stderr)
    assert.match(broken.stdout + broken.stderr, /LAMBKIN_HEALTH_CHECK_FAILED/)
    await waitSince(p, mark, /greenhouse\s+threshold-alarm: rollout r\d+: LAMBKIN_HEALTH_CHECK_FAILED: version \w+ failed its health check/)
    await waitSince(p, mark, /office\s+threshold-alarm: rollout r\d+: LAMBKIN_HEALTH_CHECK_FAILED/)

    // Edit an example and deploy it: the new version runs on both boards.
    const exampleDir = (/lambkin deploy (\S+\/examples\/threshold-alarm) --to/.exec(guide) as RegExpMatchArray)[1]
    const code = readFileSync(path.join(exampleDir, 'index.js'), 'utf8')
    writeFileSync(path.join(exampleDir, 'index.js'), code.replace("'alarm raised'", "'ALARM (edited) raised'").replace("'alarm cleared'", "'ALARM (edited) cleared'"))
    mark = p.stdout().length
    const edited = await runLambkin(['deploy', exampleDir, '--to', 'group:demo'], { env: { ...env, LAMBKIN_KEY: keyFile } })
    assert.is(edited.code, 0, edited.stderr)
    await waitSince(p, mark, /greenhouse\s+\[threshold-alarm\] info: ALARM \(edited\)/, 90_000)

    // The cloud away: the boards buffer; back: the backlog drains.
    mark = p.stdout().length
    p.child.stdin?.write('cloud\n')
    await waitSince(p, mark, /cloud\s+lambkin cloud stopped/)
    await waitSince(p, mark, /backlog \(the cloud is away\): greenhouse \d+, office \d+ records/)
    mark = p.stdout().length
    p.child.stdin?.write('cloud\n')
    await waitSince(p, mark, /cloud\s+lambkin cloud ready/)
    await waitSince(p, mark, /backlog drained: greenhouse \d+, office \d+ records left/, 90_000)

    // Ctrl-C: everything stops cleanly, and no process of the demo is left.
    const kids = childrenOf(p.child.pid as number)
    assert.ok(kids.length >= 3, `cloud and two boards run as child processes: ${kids.join(', ')}`)
    const exit = await p.stop('SIGINT', 60_000)
    exited = true
    assert.is(exit.code, 0, p.stderr())
    assert.match(p.stdout(), /demo\s+stopped the boards and the cloud/)
    assert.match(p.stdout(), /greenhouse\s+lambkin device greenhouse stopped/)
    assert.match(p.stdout(), /cloud\s+lambkin cloud stopped/)
    assert.equal(kids.filter(alive), [], 'no child process left')
    const root = (/\[1\/5\] staging keys, examples and two boards in (\S+)/.exec(p.stdout()) as RegExpMatchArray)[1]
    assert.not.ok(existsSync(root), 'the temporary folder is removed')
  } finally {
    if (!exited) {
      // The boards and the cloud run in their own process groups: a failed test kills them too.
      for (const k of childrenOf(p.child.pid as number)) { try { process.kill(k, 'SIGKILL') } catch {} }
      await p.stop('SIGKILL')
    }
    rmSync(cwd, { recursive: true, force: true })
  }
})

test('bad --seconds and a --data folder that is not empty are usage errors', async () => {
  const r = await runLambkin(['demo', '--seconds', '0'])
  assert.is(r.code, 2)
  assert.match(r.stderr, /^LAMBKIN_USAGE: .*--seconds must be a number above 0/m)
  const full = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-demo-'))
  try {
    writeFileSync(path.join(full, 'x'), '')
    const d = await runLambkin(['demo', '--data', full])
    assert.is(d.code, 2)
    assert.match(d.stderr, /^LAMBKIN_USAGE: --data .* is not empty/m)
  } finally {
    rmSync(full, { recursive: true, force: true })
  }
})

test.run()

// `lambkin demo` (what `npm start` runs): examples on an embedded broker with simulated
// sensors, stopping by itself with a summary, from any working directory.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { readOutbox, runLambkin } from './fixtures/lambkin-process.js'

function count (text: string, re: RegExp): number {
  const m = text.match(re)
  assert.ok(m !== null, `no match for ${re} in:\n${text}`)
  return Number(m[1])
}

test('--seconds 3 runs the examples on simulated sensors and exits 0 with a summary', async () => {
  // Run from an unrelated folder: the examples are found relative to the package.
  const cwd = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-demo-'))
  try {
    const r = await runLambkin(['demo', '--seconds', '3'], { cwd })
    assert.is(r.code, 0, r.stderr)
    // Every example in examples/ runs; these four are the ones the simulated rooms feed.
    assert.match(r.stdout, /running [a-z, -]*\bheartbeat, hello, [a-z, -]*\broom-average, threshold-alarm$/m)
    assert.match(r.stdout, /sensors\s+greenhouse \d+(\.\d)?°C/)
    // The greenhouse starts above the threshold-alarm's 70.
    assert.match(r.stdout, /ALARM raised\s+greenhouse at 7\d/)
    assert.match(r.stdout, /room-average\s+humidity greenhouse/)
    assert.match(r.stdout, 'Summary after')
    assert.ok(count(r.stdout, /threshold-alarm\s+(\d+)\s+0\n/) >= 6, 'temperature readings ran the threshold-alarm without errors')
    assert.ok(count(r.stdout, /room-average\s+(\d+)\s+0\n/) >= 1)
    assert.ok(count(r.stdout, /outbox: (\d+) records buffered/) >= 7)
    // Without --data the outbox was a temporary folder, gone now.
    const dataDir = (r.stdout.match(/ {2}data {5}(\S+)/) ?? [])[1]
    assert.ok(dataDir !== undefined && !existsSync(dataDir), `temporary data folder ${String(dataDir)} should be removed`)
  } finally {
    rmSync(cwd, { recursive: true, force: true })
  }
})

test('--data keeps the outbox for lambkin outbox to read afterwards', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-demo-'))
  try {
    const data = path.join(root, 'data')
    const r = await runLambkin(['demo', '--seconds', '2', '--data', data])
    assert.is(r.code, 0, r.stderr)
    assert.match(r.stdout, `lambkin outbox --data ${data}`)
    const { records, stats } = await readOutbox(data)
    const buffered = count(r.stdout, /outbox: (\d+) records buffered/)
    assert.is(stats.count, buffered)
    const alarms = records.filter((x) => x.kind === 'result' && x.fn === 'threshold-alarm')
    assert.ok(alarms.some((x) => (x.data.result as { where?: string }).where === 'greenhouse'))
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('bad --seconds is a usage error', async () => {
  const r = await runLambkin(['demo', '--seconds', '0'])
  assert.is(r.code, 2)
  assert.match(r.stderr, /^LAMBKIN_USAGE: .*--seconds must be a number above 0/m)
})

test.run()

// `LAMBKIN_DATA=` set but empty (an env file with `LAMBKIN_DATA=` left blank, a unit's
// `Environment=LAMBKIN_DATA=`): `lambkin device` counts an empty variable as unset and keeps its
// outbox in ./.lambkin/data (docs/device.md), so `lambkin outbox` without --data must read that
// same folder (docs/cli.md), not the working directory. Real `lambkin` processes, real LevelDB.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { runLambkin, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'

test('LAMBKIN_DATA empty: lambkin outbox without --data reads the ./.lambkin/data lambkin device wrote', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-outbox-empty-env-'))
  try {
    writeFunctions(path.join(root, 'functions'), {
      tick: { manifest: { triggers: [{ schedule: '* * * * * *' }] }, code: 'export default (e) => e.source' }
    })
    const env = { LAMBKIN_DATA: '' }
    const agent = startLambkin(['device', '--id', 'empty-env'], { cwd: root, env })
    await agent.waitFor('stderr', /(?:\[tick\] ok[^]*){2}/)
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null }, agent.stderr())
    assert.ok(existsSync(path.join(root, '.lambkin', 'data')), 'the agent kept its outbox in ./.lambkin/data')
    const r = await runLambkin(['outbox', '--json'], { cwd: root, env })
    assert.is(r.code, 0, r.stderr)
    const records = (JSON.parse(r.stdout) as { records: Array<{ kind: string }> }).records
    assert.ok(records.some((x) => x.kind === 'result'), r.stdout)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('LAMBKIN_DATA from an env file with CRLF: lambkin outbox names the "\\r" in the variable, as lambkin device does, and prints no raw one', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-outbox-crlf-'))
  try {
    const r = await runLambkin(['outbox'], { cwd: root, env: { LAMBKIN_DATA: `${path.join(root, 'data')}\r` } })
    assert.is(r.code, 1, r.stderr)
    assert.match(r.stderr, /^LAMBKIN_CONFIG_INVALID: environment variable LAMBKIN_DATA holds the control character "\\r"/)
    assert.not.ok(r.stderr.includes('\r'), 'a raw carriage return would overwrite the line on a terminal')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('lambkin outbox --help names the default of --data once', async () => {
  const r = await runLambkin(['outbox', '--help'], { env: { LAMBKIN_DATA: '/srv/lambkin/data' } })
  assert.is(r.code, 0, r.stderr)
  const data = r.stdout.slice(r.stdout.indexOf('--data'), r.stdout.indexOf('--json'))
  assert.is(data.split('(default').length - 1, 1, data)
})

test.run()

// `lambkin cloud --db` and `lambkin cloud migrate` in process, without a server: usage errors
// exit 2, a database that cannot be reached stops the start (or the migration) at once with
// LAMBKIN_DB_UNAVAILABLE naming it without its password (exit 1). With a server:
// test/e2e/cloud-postgres.test.ts.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cloudCommand } from '../../../cli/commands/cloud.js'
import { freePort } from '../../helpers/brokers.js'

async function run (argv: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  delete process.env.LAMBKIN_DB_URL
  delete process.env.LAMBKIN_RETENTION_DAYS
  const code = await cloudCommand(argv, { stdout: (s) => { out += s }, stderr: (s) => { err += s } })
  return { code, out, err }
}

test('--retention-days or --follow-poll without --db, --session-expiry without --broker, and migrate without a database, are usage errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lambkin-cli-cloudpg-'))
  try {
    const r = await run(['--data', dir, '--port', '0', '--api-port', '0', '--retention-days', '7'])
    assert.equal([r.code, /LAMBKIN_USAGE: --retention-days applies to the PostgreSQL registry/.test(r.err)], [2, true], r.err)
    const poll = await run(['--data', dir, '--port', '0', '--api-port', '0', '--follow-poll', '60000'])
    assert.equal([poll.code, /LAMBKIN_USAGE: --follow-poll applies to the PostgreSQL registry/.test(poll.err)], [2, true], poll.err)
    const expiry = await run(['--data', dir, '--port', '0', '--api-port', '0', '--session-expiry', '10'])
    assert.equal([expiry.code, /LAMBKIN_USAGE: --session-expiry goes with --broker/.test(expiry.err)], [2, true], expiry.err)
    const m = await run(['migrate'])
    assert.equal([m.code, /LAMBKIN_USAGE: which database\?/.test(m.err)], [2, true], m.err)
    const bad = await run(['--data', dir, '--port', '0', '--api-port', '0', '--db', 'postgres://x@127.0.0.1:5432/db', '--retention-days', 'ten'])
    assert.is(bad.code, 2)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a database nobody listens at stops the start and the migration with LAMBKIN_DB_UNAVAILABLE, the password never printed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lambkin-cli-cloudpg-'))
  try {
    const url = `postgres://lambkin:hunter2secret@127.0.0.1:${await freePort()}/fleet`
    const r = await run(['--data', dir, '--port', '0', '--api-port', '0', '--db', url])
    assert.is(r.code, 1)
    assert.match(r.err, 'LAMBKIN_DB_UNAVAILABLE')
    assert.not.match(r.out, 'ready')
    const m = await run(['migrate', '--db', url])
    assert.is(m.code, 1)
    assert.match(m.err, /LAMBKIN_DB_UNAVAILABLE: cannot reach the PostgreSQL database at postgres:\/\/\S*\*\*\*@127\.0\.0\.1/)
    assert.not.match(r.err + m.err, 'hunter2secret')
    const other = await run(['--data', dir, '--port', '0', '--api-port', '0', '--db', 'mysql://x@127.0.0.1/db'])
    assert.equal([other.code, /LAMBKIN_CONFIG_INVALID: the database URL must start with postgres:\/\//.test(other.err)], [1, true], other.err)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('--help names --db, --retention-days and the migrate subcommand', async () => {
  const r = await run(['--help'])
  assert.match(r.out, /--db <url>/)
  assert.match(r.out, /--retention-days <n>/)
  assert.match(r.out, /--follow-poll <ms>/)
  assert.match(r.out, /--session-expiry <s>/)
  assert.match(r.out, /lambkin cloud migrate\s+--help/)
  const m = await run(['migrate', '--help'])
  assert.is(m.code, 0)
  assert.match(m.out, /advisory lock/)
})

test.run()

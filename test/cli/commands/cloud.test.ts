// `lambkin cloud --trust` in process: a key file that is not a public key stops the start with
// LAMBKIN_KEY_INVALID naming the file (exit 1); the flag is listed in --help.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cloudCommand } from '../../../cli/commands/cloud.js'

async function run (argv: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await cloudCommand(argv, { stdout: (s) => { out += s }, stderr: (s) => { err += s } })
  return { code, out, err }
}

test('--trust with a file that is not a public key stops the start, naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lambkin-cli-cloud-'))
  try {
    const bad = join(dir, 'nope.pub')
    writeFileSync(bad, 'not a key')
    const r = await run(['--data', join(dir, 'data'), '--port', '0', '--api-port', '0', '--trust', bad])
    assert.is(r.code, 1)
    assert.match(r.err, 'LAMBKIN_KEY_INVALID')
    assert.match(r.err, bad)
    assert.not.match(r.out, 'ready')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('--help lists --trust as repeatable', async () => {
  const r = await run(['--help'])
  assert.is(r.code, 0)
  assert.match(r.out, /--trust <file\.pub>.*repeatable/s)
})

test('--broker-admin that is not an mqtt(s):// URL with a user is bad usage (exit 2), its password not echoed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lambkin-cli-cloud-'))
  try {
    for (const url of ['http://u:secret-pw@host:1883', 'mqtt://host:1883', 'not a url']) {
      const r = await run(['--data', join(dir, 'data'), '--port', '0', '--api-port', '0', '--broker-admin', url])
      assert.is(r.code, 2, url)
      assert.match(r.err, 'LAMBKIN_USAGE')
      assert.match(r.err, '--broker-admin')
      assert.not.match(r.err, 'secret-pw')
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('--broker-admin without a URL reuses --broker\'s, and without --broker it is bad usage saying so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lambkin-cli-cloud-'))
  try {
    const r = await run(['--data', join(dir, 'data'), '--port', '0', '--api-port', '0', '--broker-admin'])
    assert.is(r.code, 2)
    assert.match(r.err, 'reuses the --broker one')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('LAMBKIN_BROKER_ADMIN is read like --broker-admin: a bad one is bad usage naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lambkin-cli-cloud-'))
  process.env.LAMBKIN_BROKER_ADMIN = 'http://u:env-secret@host:1883'
  try {
    const r = await run(['--data', join(dir, 'data'), '--port', '0', '--api-port', '0'])
    assert.is(r.code, 2)
    assert.match(r.err, 'LAMBKIN_BROKER_ADMIN')
    assert.not.match(r.err, 'env-secret')
  } finally {
    delete process.env.LAMBKIN_BROKER_ADMIN
    rmSync(dir, { recursive: true, force: true })
  }
})

test('--help lists --broker-admin and the dynamic-security plugin', async () => {
  const r = await run(['--help'])
  assert.match(r.out, /--broker-admin \[url\].*dynamic-security/s)
})

test.run()

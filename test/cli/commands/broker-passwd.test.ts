// `lambkin broker-passwd` in process: the entry it prints loads as a broker user and verifies
// the password it read; bad usage exits 2 with the usage.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Readable } from 'node:stream'
import { brokerPasswdCommand } from '../../../cli/commands/broker-passwd.js'
import { parsePasswordHash, verifyPassword } from '../../../src/secrets.js'

async function run (argv: string[], input: string): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await brokerPasswdCommand(argv, { stdout: (s) => { out += s }, stderr: (s) => { err += s } }, Readable.from([Buffer.from(input)]))
  return { code, out, err }
}

test('prints an entry whose hash verifies the first line of stdin, with the grants given', async () => {
  const r = await run(['gh-sensor-1', '--publish', 'sensors/gh1/#', '--subscribe', 'cmd/+', '--retain'], 'pässword with spaces\r\nsecond line\n')
  assert.is(r.code, 0, r.err)
  const entry = JSON.parse(r.out) as { username: string, passwordHash: string, publish: string[], subscribe: string[], retain: boolean }
  assert.equal({ ...entry, passwordHash: '' }, { username: 'gh-sensor-1', passwordHash: '', publish: ['sensors/gh1/#'], subscribe: ['cmd/+'], retain: true })
  assert.ok(await verifyPassword('pässword with spaces', parsePasswordHash(entry.passwordHash)))
  assert.not.ok(r.out.includes('pässword'))
})

test('no user name, two names, a bad filter, an empty password or an unknown flag exit 2', async () => {
  for (const [argv, input, words] of [
    [[], 'pw\n', "missing required argument 'username'"],
    [['a', 'b'], 'pw\n', 'too many arguments'],
    [['a', '--publish', 'a/#/b'], 'pw\n', 'not a valid MQTT topic filter'],
    [['a'], '\n', 'password is empty'],
    [['a', '--bogus'], 'pw\n', 'bogus']
  ] as Array<[string[], string, string]>) {
    const r = await run(argv, input)
    assert.is(r.code, 2, `${argv.join(' ')}: ${r.err}`)
    assert.match(r.err, words)
    assert.is(r.out, '')
  }
  const help = await run(['--help'], '')
  assert.is(help.code, 0)
  assert.match(help.out, 'Usage: lambkin broker-passwd [options] <username>')
  assert.match(help.out, '--publish <filter>')
})

test.run()

// Topic filter grants (MQTT 3.1.1 section 4.7) and the stored password form of the embedded broker.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { filterCovers, filterProblem, mayPublish } from '../../../../device/links/broker/acl.js'
import { hashPassword, parsePasswordHash, verifyPassword } from '../../../../src/secrets.js'
import { isLoopbackHost } from '../../../../device/links/broker/exposure.js'

test('[MQTT 4.7] a publish grant matches topics, with wildcards never matching $ topics', () => {
  const yes: Array<[string, string]> = [['#', 'a'], ['#', 'a/b'], ['a/#', 'a'], ['a/#', 'a/b/c'], ['a/+', 'a/b'], ['+/+', 'a/b'], ['$SYS/#', '$SYS/x'], ['a/+/c', 'a//c']]
  const no: Array<[string, string]> = [['#', '$SYS/x'], ['+/x', '$SYS/x'], ['a/+', 'a/b/c'], ['a/+', 'a'], ['a', 'a/b'], ['a/b', 'a']]
  const grant = (f: string): { publish: string[], subscribe: string[], retain: boolean } => ({ publish: [f], subscribe: [], retain: false })
  for (const [f, t] of yes) assert.ok(mayPublish(grant(f), t), `${f} should match ${t}`)
  for (const [f, t] of no) assert.not.ok(mayPublish(grant(f), t), `${f} should not match ${t}`)
})

test('a grant covers a requested filter only when it matches every topic the filter can', () => {
  const yes: Array<[string, string]> = [['#', '#'], ['#', 'a/+'], ['a/#', 'a'], ['a/#', 'a/#'], ['a/#', 'a/+/b'], ['a/+', 'a/b'], ['a/+', 'a/+'], ['$SYS/#', '$SYS/#'], ['+/#', 'x/#']]
  const no: Array<[string, string]> = [['#', '$SYS/#'], ['+/#', '$SYS/x'], ['a/+', 'a/#'], ['a/b', 'a/+'], ['a/+', '#'], ['a/#', '#'], ['a/+/c', 'a/+'], ['sensors/#', '+/x']]
  for (const [g, r] of yes) assert.ok(filterCovers(g, r), `${g} should cover ${r}`)
  for (const [g, r] of no) assert.not.ok(filterCovers(g, r), `${g} should not cover ${r}`)
})

test('invalid filters are named', () => {
  assert.is(filterProblem('a/#'), undefined)
  assert.is(filterProblem('+/b/+'), undefined)
  assert.ok(filterProblem('') !== undefined)
  assert.ok(filterProblem('a#') !== undefined)
  assert.ok(filterProblem('#/a') !== undefined)
  assert.ok(filterProblem('a+/b') !== undefined)
  assert.ok(filterProblem('a\0b') !== undefined)
})

test('scrypt hashes: salted (two hashes of one password differ), verified, tamper refused', async () => {
  const p = { N: 1024, r: 8, p: 1 }
  const a = await hashPassword('correct horse', p)
  const b = await hashPassword('correct horse', p)
  assert.match(a, /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/)
  assert.is.not(a, b)
  assert.ok(await verifyPassword('correct horse', parsePasswordHash(a)))
  assert.not.ok(await verifyPassword('correct horse!', parsePasswordHash(a)))
  assert.not.ok(await verifyPassword(Buffer.alloc(0), parsePasswordHash(a)))
  assert.throws(() => parsePasswordHash('scrypt$1048576$64$16$AAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAA'), /MiB/)
  assert.throws(() => parsePasswordHash('bcrypt$x'), /scrypt\$N\$r\$p\$salt\$hash/)
})

test('loopback hosts', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(h), h)
  for (const h of ['0.0.0.0', '::', '192.168.1.2', 'pi.local', '::ffff:10.0.0.1']) assert.not.ok(isLoopbackHost(h), h)
})

test.run()

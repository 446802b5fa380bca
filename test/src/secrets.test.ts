import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { GENERATED_SECRET_PARAMS, hashPassword, newSecret, parsePasswordHash, verifyStored } from '../../src/secrets.js'

test('a generated secret hashed with the light parameters verifies; a wrong one, a tampered hash and a malformed hash do not', async () => {
  const secret = newSecret()
  assert.is(secret.length, 43)
  const h = await hashPassword(secret, GENERATED_SECRET_PARAMS)
  assert.is(parsePasswordHash(h).N, 1024)
  assert.not.ok(h.includes(secret), 'the secret is not in its hash')
  assert.ok(await verifyStored(secret, h))
  assert.ok(await verifyStored(Buffer.from(secret), h))
  assert.not.ok(await verifyStored(secret + 'x', h))
  const parts = h.split('$')
  parts[5] = Buffer.alloc(32).toString('base64url')
  assert.not.ok(await verifyStored(secret, parts.join('$')))
  for (const bad of ['', 'plain', 'scrypt$3$8$1$a$b', 'scrypt$16384$8$1$$b', 'bcrypt$16384$8$1$a$b']) assert.not.ok(await verifyStored(secret, bad), bad)
})

test('two hashes of one secret differ (salted)', async () => {
  assert.is.not(await hashPassword('s', GENERATED_SECRET_PARAMS), await hashPassword('s', GENERATED_SECRET_PARAMS))
})

test.run()

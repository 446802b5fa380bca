import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { hashSecret, isSecretHash, newSecret, verifySecret } from '../../src/secrets.js'

test('a hashed secret verifies; a wrong one, a tampered hash and a malformed hash do not', async () => {
  const secret = newSecret()
  assert.is(secret.length, 43)
  const h = await hashSecret(secret)
  assert.ok(isSecretHash(h))
  assert.not.ok(h.includes(secret), 'the secret is not in its hash')
  assert.ok(await verifySecret(secret, h))
  assert.not.ok(await verifySecret(secret + 'x', h))
  const parts = h.split('$')
  parts[5] = Buffer.alloc(32).toString('base64url')
  assert.not.ok(await verifySecret(secret, parts.join('$')))
  for (const bad of ['', 'plain', 'scrypt$3$8$1$a$b', 'scrypt$16384$8$1$$b', 'bcrypt$16384$8$1$a$b']) assert.not.ok(await verifySecret(secret, bad), bad)
})

test('two hashes of one secret differ (salted)', async () => {
  assert.is.not(await hashSecret('s'), await hashSecret('s'))
})

test.run()

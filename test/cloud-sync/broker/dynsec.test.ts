// The dynamic-security client against real Mosquittos (cloud-sync/broker/dynsec.ts): what an
// operator gets when the admin URL is wrong, the plugin is missing, the user may not drive it,
// or the broker goes away: LAMBKIN_BROKER_ADMIN_FAILED with the reason, never a hang.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DynsecClient } from '../../../cloud-sync/broker/dynsec.js'
import { DynsecCredentials } from '../../../cloud-sync/broker/credentials.js'
import { newSecret } from '../../../src/secrets.js'
import { freePort, startMosquitto } from '../../helpers/brokers.js'
import { dynsecSkip, startDynsecMosquitto } from '../../helpers/dynsec.js'

const skip = dynsecSkip()
if (skip !== undefined) console.log(`dynsec client: skipped: ${skip}`)
const it = skip === undefined ? test : test.skip

const failure = async (p: Promise<unknown>): Promise<{ code?: string, message: string }> => await p.then(() => ({ message: 'no error' }), (e: { code?: string, message: string }) => e)

it('a wrong admin password: LAMBKIN_BROKER_ADMIN_FAILED naming the refusal, and the URL\'s password is not in the message', async () => {
  const broker = await startDynsecMosquitto()
  try {
    const url = new URL(broker.adminUrl)
    url.password = 'wrong-password'
    const err = await failure(DynsecClient.connect({ url: url.toString() }))
    assert.is(err.code, 'LAMBKIN_BROKER_ADMIN_FAILED')
    assert.match(err.message, 'refused the admin connection')
    assert.not.match(err.message, 'wrong-password')
  } finally {
    await broker.close()
  }
})

it('a broker without the plugin: the probe gets no answer and connect says to load it', async () => {
  const broker = await startMosquitto()
  try {
    const err = await failure(DynsecClient.connect({ url: broker.url, timeoutMs: 500 }))
    assert.is(err.code, 'LAMBKIN_BROKER_ADMIN_FAILED')
    assert.match(err.message, 'did not answer')
    assert.match(err.message, 'mosquitto_dynamic_security.so')
  } finally {
    await broker.close()
  }
})

it('a device\'s credentials as the admin URL: the answers\' subscription is refused, naming the role it needs', async () => {
  const broker = await startDynsecMosquitto()
  const admin = await DynsecClient.connect({ url: broker.adminUrl })
  try {
    const secret = newSecret()
    await new DynsecCredentials(admin).added('plain-device', secret)
    const err = await failure(DynsecClient.connect({ url: `mqtt://plain-device:${secret}@127.0.0.1:${broker.port}`, mqtt: { clientId: 'plain-device' } }))
    assert.is(err.code, 'LAMBKIN_BROKER_ADMIN_FAILED')
    assert.match(err.message, '$CONTROL/dynamic-security/#')
  } finally {
    await admin.close()
    await broker.close()
  }
})

it('nothing listening: connect gives up after its timeout with the code', async () => {
  const err = await failure(DynsecClient.connect({ url: `mqtt://u:p@127.0.0.1:${await freePort()}`, connectTimeoutMs: 300 }))
  assert.is(err.code, 'LAMBKIN_BROKER_ADMIN_FAILED')
  assert.match(err.message, 'did not accept a connection')
})

it('the broker gone: a command fails at once with the code (not connected), and a refused command carries the broker\'s reason', async () => {
  const broker = await startDynsecMosquitto()
  const admin = await DynsecClient.connect({ url: broker.adminUrl })
  try {
    const refused = await failure(admin.runAll([{ command: 'deleteRole', rolename: 'no-such-role' }]))
    assert.is(refused.code, 'LAMBKIN_BROKER_ADMIN_FAILED')
    assert.match(refused.message, 'Role not found')
    const gone = new Promise<void>((resolve) => { const check = (): void => { if (!admin.connected) resolve(); else setTimeout(check, 10) }; check() })
    await broker.stop()
    await gone
    const err = await failure(new DynsecCredentials(admin).added('after-stop', newSecret()))
    assert.is(err.code, 'LAMBKIN_BROKER_ADMIN_FAILED')
    assert.match(err.message, 'not connected')
  } finally {
    await admin.close()
  }
})

test.run()

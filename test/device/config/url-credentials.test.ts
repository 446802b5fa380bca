// Credentials in a broker URL never reach an error or log line, whatever characters they hold:
// URLs whose userinfo is not RFC 3986 (a space, '#', '/', '\', a bad %-escape) are refused
// without echoing them; a URL with no scheme but credentials is not echoed either.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadDeviceConfig } from '../../../device/config/index.js'

const SECRET = 's3cr3tpw'

test('odd or missing URL syntax around credentials: LAMBKIN_CONFIG_INVALID, and the password is never in the message', async () => {
  for (const url of [`mqtt://bob:${SECRET} x@127.0.0.1:1`, `mqtt://bob:${SECRET}#@127.0.0.1:1`, `mqtt://bob:${SECRET}/@127.0.0.1:1`, `mqtt://bob:${SECRET}\\@127.0.0.1:1`, `mqtt://bob:${SECRET}%zz@127.0.0.1:1`, `bob:${SECRET}@127.0.0.1`, `mqtt://bob:${SECRET}@127.0.0.1:99999`]) {
    for (const how of ['env', 'flag'] as const) {
      let message = ''
      try {
        await loadDeviceConfig(how === 'env' ? { env: { LAMBKIN_MQTT_URL: url } } : { env: {}, flags: { mqtt: url } })
        assert.unreachable(url)
      } catch (err) {
        assert.is((err as { code?: string }).code, 'LAMBKIN_CONFIG_INVALID', url)
        message = (err as Error).message
      }
      assert.not.ok(message.includes(SECRET), `${how} ${url}: ${message}`)
    }
  }
})

test('percent-encoded credentials are taken', async () => {
  const c = await loadDeviceConfig({ env: { LAMBKIN_MQTT_URL: 'mqtt://bob:pa%40ss%20w@127.0.0.1:1883' } })
  assert.is(c.mqtt.url, 'mqtt://bob:pa%40ss%20w@127.0.0.1:1883')
})

test.run()

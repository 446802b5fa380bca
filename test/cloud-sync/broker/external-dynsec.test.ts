// The cloud on the fleet's own Mosquitto (`--broker`, docs/scale-out.md) managing that broker's
// device credentials too (`--broker-admin` with no URL: the same lambkin.cloud client, which
// dynsec-init gives both the cloud and the admin role; docs/brokers.md): a device added through
// the API connects with the secret it printed and is seen online; revoked, it is cut there.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startCloud } from '../../helpers/cloud.js'
import { fixture } from '../../helpers/agent.js'
import { dynsecSkip, startDynsecMosquitto } from '../../helpers/dynsec.js'
import { postgresBin, startPostgres } from '../../helpers/postgres.js'

const pg = postgresBin()
const skip = dynsecSkip() ?? ('skip' in pg ? pg.skip : undefined)
if (skip !== undefined) console.log(`external broker with dynamic security: skipped: ${skip}`)

;(skip === undefined ? test : test.skip)('external broker: devices add, revoke on the same Mosquitto the cloud consumes from; the agent is seen online, then cut', async () => {
  const server = await startPostgres()
  if ('skip' in server) throw new Error(server.skip)
  const broker = await startDynsecMosquitto()
  const db = { url: await server.createDatabase(), retentionDays: 0 }
  const f = await startCloud({ broker: { url: broker.adminUrl }, db, brokerAdmin: { url: broker.adminUrl } })
  const a = fixture({})
  try {
    const secret = await f.addDevice('edge-1')
    const agent = await a.start({ id: 'edge-1', cloud: { url: broker.url, password: secret, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 200 } })
    try {
      let state = ''
      for (let i = 0; state !== 'online' && i < 100; i++) {
        state = (await f.api<{ state: string }>('GET', '/v1/devices/edge-1')).body.state
        if (state !== 'online') await new Promise((resolve) => setTimeout(resolve, 100))
      }
      assert.is(state, 'online', 'the cloud, a client of the broker, saw the device come online')
      assert.is((await f.api('POST', '/v1/devices/edge-1/revoke')).status, 200)
      assert.not.match(broker.output(), /Denied PUBLISH from (edge-1|lambkin-)/)
    } finally {
      await agent.close()
    }
    // Gone from the broker: its secret is refused there.
    const { default: mqtt } = await import('mqtt')
    const code = await mqtt.connectAsync(broker.url, { clientId: 'edge-1', username: 'edge-1', password: secret, protocolVersion: 5, reconnectPeriod: 0 })
      .then(async (c) => { await c.endAsync(); return 'connected' }, (err: { code?: number }) => err.code)
    assert.is(code, 135)
  } finally {
    a.cleanup()
    await f.cleanup()
    await broker.close()
    await server.close()
  }
})

test.run()

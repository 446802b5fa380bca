// bench/relay's bare relay: the same threshold job in a bare MQTT.js client, nothing durable (floor-relay.ts is the floor that keeps lambkin's guarantees).
// `node bare-relay.js <url>`: QoS 1 in on bench/in/+, QoS 1 out on bench/out.
import mqtt from 'mqtt'

const THRESHOLD = 25
const client = await mqtt.connectAsync(process.argv[2], { clientId: 'bench-bare-relay', clean: false })
client.on('message', (_topic, payload) => {
  const msg = JSON.parse(payload.toString()) as { value: number }
  if (msg.value > THRESHOLD) client.publish('bench/out', JSON.stringify(msg), { qos: 1 })
})
await client.subscribeAsync('bench/in/+', { qos: 1 })
process.stdout.write('ready\n')
process.on('SIGTERM', () => { void client.endAsync().then(() => process.exit(0)) })

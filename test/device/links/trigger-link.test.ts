// The TriggerLink cases (./trigger-link.case.ts) on each implementation: MqttLink over aedes (it
// speaks MQTT 3.1.1 after the MQTT 5 attempt is refused), MqttLink over Mosquitto (MQTT 5), and
// EmbeddedLink, where the agent's own aedes takes the sensors' publishes in its hook.
import { existsSync } from 'node:fs'
import { MqttLink } from '../../../device/links/mqtt-link.js'
import { EmbeddedLink } from '../../../device/links/embedded-link.js'
import { startEmbeddedBroker } from '../../../device/links/broker/index.js'
import { DEVICE_DEFAULTS } from '../../../device/config/defaults.js'
import { aedesBroker, startMosquitto } from '../../helpers/brokers.js'
import type { TestBroker } from '../../helpers/brokers.js'
import { startRelay } from '../../helpers/tcp-relay.js'
import { triggerLinkCases } from './trigger-link.case.js'
import type { LinkWorld } from './trigger-link.case.js'

/** MqttLink reaching `broker` through the relay; sensors and observers reach the broker directly. */
async function mqttWorld (start: () => Promise<TestBroker>): Promise<LinkWorld> {
  const broker = await start()
  const relay = await startRelay({ port: broker.port })
  return {
    publisherUrl: broker.url,
    observerUrl: broker.url,
    relay,
    ackDir: 'up',
    link: (store, onMessage) => MqttLink.create({ url: relay.url, config: { ...DEVICE_DEFAULTS.mqtt, clientId: 'case-agent', reconnectMs: 50 }, onMessage, log: () => {} }, store),
    close: async () => { await relay.close(); await broker.close() }
  }
}

triggerLinkCases('MqttLink over aedes', async () => await mqttWorld(async () => await aedesBroker()))

triggerLinkCases('MqttLink over Mosquitto', async () => await mqttWorld(async () => await startMosquitto()), {},
  existsSync('/usr/sbin/mosquitto') ? undefined : 'Mosquitto is not installed (/usr/sbin/mosquitto; apt-get install mosquitto)')

triggerLinkCases('EmbeddedLink', async () => {
  const broker = await startEmbeddedBroker('127.0.0.1', 0)
  // The relay stands between the sensors and the broker: it is the broker that acknowledges them.
  const relay = await startRelay({ port: broker.port })
  return {
    publisherUrl: relay.url,
    observerUrl: broker.url,
    relay,
    ackDir: 'down',
    link: (store, onMessage) => new EmbeddedLink(broker, store, onMessage),
    close: async () => { await relay.close(); await broker.close() }
  }
}, {
  'session-present': 'the embedded link has no session of its own: it takes publishes in aedes\' hook, so sessionPresent is always false, and a message published while the agent is down stays with its sensor',
  'publish-after-reconnect': 'the embedded link is in process, with no connection to lose: a publish handed to it is delivered at once',
  'publish-puback-lost': 'the embedded link is in process: its publishes cross no connection, so there is no PUBACK to lose',
  'puback-order': 'the PUBACK order rule binds the receiving client (MQTT 3.1.1 section 4.6), and here the server, aedes, acknowledges the sensor: each publish as soon as its own hook settled'
})

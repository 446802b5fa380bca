// Output publishes across blips of the trigger link: the agent relays 6,000 QoS 1 triggers sent
// at once, each to an output publish (QoS 1, durable in the outbox until PUBACKed) and a result;
// the link (a TCP relay) first drops the agent's PUBACKs of triggers for a while, then is cut
// four times. Every trigger must end with its output publish at the broker, with the link up,
// and exactly one result in the cloud (docs/durability.md; DESIGN section 6).
import { test } from 'uvu'
import { relayThrough } from './fixtures/relay-world.js'

test('the trigger link cut four times while the agent relays QoS 1 at full speed, PUBACKs lost before the first: every trigger published and with exactly one result in the cloud', async () => {
  await relayThrough('cuts')
})

test.run()

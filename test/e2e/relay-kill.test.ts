// kill -9 of the agent while it relays QoS 1 triggers at full speed, with this round's trigger
// link: the socket corked per event-loop turn and each packet written as one Buffer
// (src/mqtt/cork-per-turn.ts, whole-packets.ts), group commits in LevelDB's chained batch. A
// PUBACK may leave only after its trigger's outcome is committed: every trigger aedes saw
// PUBACKed before the kill has its output publish and its result, and after a restart on the
// same data every trigger's result is in the cloud exactly once, seqs 1, 2, 3... [W4]. Real
// `lambkin cloud` and `lambkin device`, aedes as the trigger broker, a TCP relay to the cloud.
import { test } from 'uvu'
import { relayThrough } from './fixtures/relay-world.js'

test('SIGKILL of the agent relaying QoS 1 at full speed: each trigger PUBACKed before the kill has its publish and result; every result in the cloud once', async () => {
  await relayThrough('kill')
})

test.run()

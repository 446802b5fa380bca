// Ending an MQTT.js client within a bound, for both of the agent's links. end(false) waits for
// the PUBACK of every QoS 1 publish in flight, and while it waits a later end(true) does nothing
// (mqtt 5.x client.js end(): `if (this.disconnecting) { cb(); return this }`), so a broker that
// never acknowledged kept the socket open, and with it the process, after a graceful stop
// printed "stopped". Past the bound the socket is destroyed instead; what was in flight is
// still in the store (publishes, outbox records) and goes again on the next start.
import type { MqttClient } from 'mqtt'

/** Ends `client` gracefully, or destroys its socket once `ms` have passed without that. */
export async function endWithin (client: MqttClient, ms: number): Promise<void> {
  const ended = client.endAsync(false).then(() => true, () => true)
  const graceful = await Promise.race([ended, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())])
  if (!graceful) client.stream?.destroy()
}

// A broker (the cloud's, or the trigger broker: links/mqtt-link.ts) refusing a board's CONNECT for its credentials (MQTT 3.1.1 section 3.2.2.3
// return codes 4 and 5; MQTT 5 section 3.2.2.2 reason codes 0x86, 0x87, 0x8A): the agent's line
// names the stable code and what to check, where MQTT.js's own text ("Connection refused: Not
// authorized") said neither. The link keeps trying, as for any other error.
import { ErrorCodes } from '../../src/errors.js'

/** CONNACK codes that refuse the device's id and password (or ban it) rather than the connection. */
const CREDENTIALS_REFUSED: ReadonlySet<number> = new Set([4, 5, 0x86, 0x87, 0x8a])

/** Whether MQTT.js's `err` is a CONNACK refusing the client's user name and password, or banning it (`err.code`: its return or reason code). */
export function refusesCredentials (err: Error & { code?: unknown }): boolean {
  return typeof err.code === 'number' && CREDENTIALS_REFUSED.has(err.code)
}

/**
 * The line the agent logs for an error of its cloud link: a CONNECT refused for its credentials
 * is LAMBKIN_UNAUTHORIZED naming the device and where its password comes from; any other error
 * is its message. `err.code` is MQTT.js's CONNACK return or reason code.
 */
export function cloudErrorLine (err: Error & { code?: unknown }, deviceId: string): string {
  if (!refusesCredentials(err)) return `cloud: ${err.message}`
  return `cloud: ${ErrorCodes.UNAUTHORIZED}: the cloud refused device ${deviceId} (${err.message}): its password (cloud.password, LAMBKIN_CLOUD_PASSWORD) must be the secret lambkin devices add or rotate printed last, and the device not revoked (lambkin devices); records wait in the outbox, and connecting is tried again`
}

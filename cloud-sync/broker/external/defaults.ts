// The external-broker client's defaults (external-broker.ts), apart from it so the CLI can name
// them in --help without loading MQTT.js.

export const EXTERNAL_BROKER_DEFAULTS = Object.freeze({
  /** Between connection attempts, ms (MQTT.js reconnectPeriod). */
  reconnectMs: 1000,
  connectTimeoutMs: 10_000,
  keepaliveSec: 30,
  /**
   * How long the broker keeps this instance's session after it went away, s. While it is kept,
   * the uploads this instance took but had not acknowledged wait in it for its return (a
   * restart sends them again), and Mosquitto (2.0) goes on giving the session its share of new
   * uploads too. So an instance stopped cleanly leaves the shared subscription first (close()),
   * and one killed for good holds its share only this long; then they are gone and the devices'
   * own resend (their ack timeout, 30 s by default) brings them to the others. Nothing
   * acknowledged to a device is lost either way; the cost is delay (measured against shorter
   * ones in docs/scale-out.md, "Faults"; `--session-expiry`).
   */
  sessionExpirySec: 60,
  /** Uploads in flight to this instance at once (MQTT 5 Receive Maximum): the gate's hold limit. */
  receiveMaximum: 256,
  /** A database outage is retried by reconnecting after at most this, ms (src/mqtt/ack-hold.ts). */
  redeliverMaxMs: 5000
})

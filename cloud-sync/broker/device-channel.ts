// How the cloud reaches devices, whichever broker carries them (docs/scale-out.md): its own
// embedded aedes (cloud-broker.ts) or a broker the fleet already runs, which the cloud joins
// as a plain MQTT 5 client (external/). Ingest's acks, desired state, bundles and invokes all
// leave through a DeviceChannel, and device traffic arrives through the DeviceTraffic it was
// started with; nothing else in the cloud knows which one it is.

/** What a channel hands the cloud: each device publish, and connections coming and going. */
export interface DeviceTraffic {
  /** A publish a device made under its own up/ tree [W1]; settles once its effects are committed (only then is it acknowledged). */
  onUp: (deviceId: string, topic: string, payload: Buffer) => Promise<void>
  /** The device connected (embedded: its CONNECT was accepted; external: its `up/status` said online [W3]). */
  onConnect?: (deviceId: string) => void
  onDisconnect?: (deviceId: string) => void
  /** A device authenticated while a connection with its id was open (embedded only: an external broker does not say). */
  onTakeover?: (deviceId: string) => void
}

export interface DeviceChannel {
  readonly mode: 'embedded' | 'external'
  /** Where devices connect (embedded), or the broker this cloud is a client of, without its password (external). */
  readonly url: string
  /** The devices connected, as far as this instance knows. */
  connected: () => string[]
  isConnected: (deviceId: string) => boolean
  /**
   * Publishes to a device (down/ topics), retained when asked [W5]. Resolves once the broker
   * side has taken the message (embedded: aedes routed it; external: the client queued it on
   * its session), never after the device's acknowledgement: a wait for that from inside onUp
   * could stall the very connection the acknowledgement arrives on.
   */
  publish: (topic: string, payload: Buffer, opts: { qos: 0 | 1, retain: boolean }) => Promise<void>
  /** Closes the device's live connection, if this side holds it (revocation); an external broker's own credentials do that there. */
  disconnect: (deviceId: string) => void
  /** Facts for /v1/status. */
  stats: () => Record<string, unknown>
  close: () => Promise<void>
}

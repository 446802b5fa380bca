// One socket write per event-loop turn for an MQTT.js client. mqtt-packet corks the socket for
// each packet it writes and uncorks on process.nextTick, so packets written in one synchronous
// run leave together; but MQTT.js handles each incoming packet in a nextTick of its own, and the
// answers a relay sends (a trigger's PUBACK after its commit, the next publish when a PUBACK
// frees the window) come from separate callbacks. Each then paid a writev of its own: about a
// tenth of the agent's main-thread CPU under the relay bench (docs/performance.md, "The relay job").
// Holding the socket corked until the turn's check phase (setImmediate) sends them as one.

/** The parts of an MQTT.js client (5.x) this file uses: its `packetsend` event and current socket. */
export interface CorkableClient {
  on: (event: 'packetsend', listener: () => void) => unknown
  stream?: { cork?: () => void, uncork?: () => void, destroyed?: boolean, writableEnded?: boolean }
}

/**
 * Makes `client` hold its socket writes of one event-loop turn and send them together in one
 * write, at the end of that turn (setImmediate, before any timer or new I/O of the next turn).
 * Nothing waits longer than that turn: a PUBACK still leaves after its commit, only not before
 * the other packets of the same turn. A socket ended or replaced meanwhile (a reconnect) is
 * uncorked all the same; Writable.end() flushes a corked socket itself. Returns a function that
 * sends what is held now (for tests; the turn's end does it anyway).
 */
export function corkPerTurn (client: CorkableClient): () => void {
  let corked: CorkableClient['stream']
  const flush = (): void => {
    const s = corked
    corked = undefined
    s?.uncork?.()
  }
  client.on('packetsend', () => {
    if (corked !== undefined) return
    const s = client.stream
    if (s === undefined || typeof s.cork !== 'function' || s.destroyed === true || s.writableEnded === true) return
    s.cork()
    corked = s
    setImmediate(flush)
  })
  return flush
}

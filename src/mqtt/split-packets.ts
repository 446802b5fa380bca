// Cutting a TCP byte stream into whole MQTT packets by their fixed headers: a control byte,
// then the remaining length as a variable byte integer of 1-4 bytes (MQTT 5 sections 2.1.1,
// 1.5.5). For tools that sit on a connection and count or change packets (the deploy bench's
// meter, the e2e tests' tap); the brokers and clients parse with their own libraries.

/**
 * Splits the complete packets off the front of `buf`: returns them (views into `buf`, each
 * with its fixed header) and the bytes of a packet not yet complete, to prepend to the next chunk.
 */
export function splitPackets (buf: Buffer): { packets: Buffer[], rest: Buffer } {
  const packets: Buffer[] = []
  let at = 0
  for (;;) {
    let len = 0
    let mul = 1
    let i = at + 1
    let done = false
    for (; i < buf.length && i < at + 5; i++) {
      len += (buf[i] & 0x7f) * mul
      mul *= 128
      if ((buf[i] & 0x80) === 0) { done = true; i++; break }
    }
    if (!done || i + len > buf.length) break
    packets.push(buf.subarray(at, i + len))
    at = i + len
  }
  return { packets, rest: buf.subarray(at) }
}

// Cutting a TCP byte stream into whole MQTT packets by their fixed headers: a control byte,
// then the remaining length as a variable byte integer of 1-4 bytes (MQTT 5 sections 2.1.1,
// 1.5.5). For tools that sit on a connection and count or change packets (the deploy bench's
// meter, the e2e tests' tap); the brokers and clients parse with their own libraries, but for
// the trigger link's one-pass reader of PUBLISH and PUBACK (lean-parse.ts), which reads its
// variable byte integers here too.

/** Where readVarByteInt leaves what it read: one object, reused, so a parse path allocates nothing for it. */
export const varByteInt = { value: 0, next: 0 }

/**
 * Reads the variable byte integer (MQTT 5 section 1.5.5: 1-4 bytes, 7 bits each, least
 * significant first; non-minimal forms taken, as mqtt-packet takes them) that starts at
 * `buf[start]` and must end before `end`. True with `varByteInt` set (`next`: the byte after
 * it); false when it runs past `end` or past 4 bytes.
 */
export function readVarByteInt (buf: Buffer, start: number, end: number): boolean {
  let value = 0
  let mul = 1
  for (let i = start; i < end && i < start + 4; i++) {
    const b = buf[i]
    value += (b & 0x7f) * mul
    mul *= 128
    if ((b & 0x80) === 0) {
      varByteInt.value = value
      varByteInt.next = i + 1
      return true
    }
  }
  return false
}

/**
 * Splits the complete packets off the front of `buf`: returns them (views into `buf`, each
 * with its fixed header) and the bytes of a packet not yet complete, to prepend to the next chunk.
 */
export function splitPackets (buf: Buffer): { packets: Buffer[], rest: Buffer } {
  const packets: Buffer[] = []
  let at = 0
  while (readVarByteInt(buf, at + 1, buf.length)) {
    const end = varByteInt.next + varByteInt.value
    if (end > buf.length) break
    packets.push(buf.subarray(at, end))
    at = end
  }
  return { packets, rest: buf.subarray(at) }
}

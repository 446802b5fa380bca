// Decodes Modbus RTU response frames a serial gateway publishes as raw bytes: slave address,
// function code, data, and the CRC-16/MODBUS (polynomial 0xA001 reflected, start 0xFFFF, low
// byte first). Read responses (function 3 or 4) give their 16-bit registers; exception
// responses (function | 0x80) their code. A frame whose CRC does not match throws, so it
// becomes a dead letter with the frame in it, never a wrong reading.
import { payloadBytes, toBase64 } from 'bytes'

const EXCEPTIONS = { 1: 'illegal function', 2: 'illegal data address', 3: 'illegal data value', 4: 'slave device failure', 5: 'acknowledge', 6: 'slave device busy', 8: 'memory parity error', 10: 'gateway path unavailable', 11: 'gateway target failed to respond' }

export function crc16 (bytes, end = bytes.length) {
  let crc = 0xffff
  for (let i = 0; i < end; i++) {
    crc ^= bytes[i]
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1
  }
  return crc
}

export default function (event, ctx) {
  const frame = payloadBytes(event)
  if (frame.length < 5) throw new Error(`a Modbus RTU frame has at least 5 bytes, got ${frame.length} (${toBase64(frame)})`)
  const given = frame[frame.length - 2] | (frame[frame.length - 1] << 8)
  const computed = crc16(frame, frame.length - 2)
  if (given !== computed) throw new Error(`CRC mismatch: the frame says 0x${hex(given)}, its bytes give 0x${hex(computed)} (${toBase64(frame)})`)
  const slave = frame[0]
  const fn = frame[1]
  let decoded
  if (fn & 0x80) {
    const code = frame[2]
    decoded = { slave, function: fn & 0x7f, exception: code, reason: EXCEPTIONS[code] ?? 'unknown exception' }
  } else if (fn === 3 || fn === 4) {
    const count = frame[2]
    if (count % 2 !== 0 || count !== frame.length - 5) throw new Error(`byte count ${count} does not fit a frame of ${frame.length} bytes`)
    const registers = []
    for (let i = 0; i < count; i += 2) registers.push((frame[3 + i] << 8) | frame[4 + i])
    decoded = { slave, function: fn, registers }
  } else {
    decoded = { slave, function: fn, data: toBase64(frame.subarray(2, frame.length - 2)) }
  }
  ctx.publish(`modbus/${event.topic.split('/')[1]}/decoded`, decoded, { qos: 1 })
  return decoded
}

const hex = (n) => n.toString(16).padStart(4, '0')

// The incoming packet cap (src/mqtt/packet-cap.ts) on mqtt-packet's own parser with the lean
// reader under it: packets within the cap come out as without it, in order, however the bytes are
// cut; a PUBLISH over it comes out as one marker (topic, QoS, packet id, size) with an empty
// payload, in its place in the order, and its bytes are never all held; any other packet over it
// is an error; a length of five bytes is still mqtt-packet's Malformed error.
import { createRequire } from 'node:module'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readLean } from '../../../src/mqtt/lean-parse.js'
import type { ParserLike } from '../../../src/mqtt/lean-parse.js'
import { capPackets, oversizedBytes } from '../../../src/mqtt/packet-cap.js'
import type { CappedParser } from '../../../src/mqtt/packet-cap.js'

const fromMqtt = createRequire(import.meta.resolve('mqtt'))
const mp = fromMqtt('mqtt-packet') as { generate: (p: unknown, o: unknown) => Buffer, parser: (o: unknown) => ParserLike & { on: (e: string, l: (x: unknown) => void) => void } }
const Packet = createRequire(fromMqtt.resolve('mqtt-packet'))('./packet.js') as new () => Record<string, unknown>

const CAP = 1024

function pub (topic: string, bytes: number, messageId: number, v: 4 | 5, qos = 1): Buffer {
  return mp.generate({ cmd: 'publish', topic, payload: Buffer.alloc(bytes, 0x61), qos, messageId, dup: false, retain: false, ...(v === 5 ? { properties: { userProperties: { a: 'b' } } } : {}) }, { protocolVersion: v })
}

/** What the capped parser emits for `stream` cut into pieces of `piece` bytes, and the most bytes it was handed at once past the cap. */
function run (stream: Buffer, piece: number, v: 4 | 5): { seen: unknown[], maxHeld: number } {
  const parser = mp.parser({ protocolVersion: v })
  readLean(parser, Packet)
  let maxHeld = 0
  const inner = parser.parse
  parser.parse = function (this: ParserLike, b: Buffer) {
    maxHeld = Math.max(maxHeld, b.length)
    return inner.call(this, b)
  }
  capPackets(parser as unknown as CappedParser, Packet, CAP)
  const seen: unknown[] = []
  parser.on('packet', (p) => {
    const q = p as { cmd: string, topic?: string, messageId?: number, payload?: Buffer, qos?: number }
    const big = Buffer.isBuffer(q.payload) ? oversizedBytes(q.payload) : undefined
    seen.push(big === undefined ? [q.cmd, q.topic, q.messageId, q.payload?.length] : ['oversized', q.topic, q.messageId, q.qos, big])
  })
  parser.on('error', (e) => seen.push({ error: (e as Error).message }))
  for (let i = 0; i < stream.length; i += piece) parser.parse(stream.subarray(i, i + piece))
  return { seen, maxHeld }
}

for (const v of [4, 5] as const) {
  test(`[v${v}] an oversized PUBLISH between normal ones becomes one marker in its place, however the bytes are cut`, () => {
    const big = pub('in/__proto__', 300_000, 7, v)
    const stream = Buffer.concat([pub('in/a', 10, 1, v), pub('in/b', 900, 2, v), big, pub('in/c', 10, 3, v), Buffer.from([0x40, 0x02, 0x00, 0x09])])
    const want = [['publish', 'in/a', 1, 10], ['publish', 'in/b', 2, 900], ['oversized', 'in/__proto__', 7, 1, big.length], ['publish', 'in/c', 3, 10], ['puback', null, 9, undefined]]
    for (const piece of [1, 3, 100, 65_536, stream.length]) {
      const { seen, maxHeld } = run(stream, piece, v)
      assert.equal(seen, want, `pieces of ${piece}`)
      assert.ok(maxHeld <= Math.max(piece, CAP) + 5, `never more than a piece or the cap handed on at once (${maxHeld})`)
    }
  })
}

test('a PUBLISH at exactly the cap passes; one byte over is a marker', () => {
  let n = CAP
  while (pub('t', n, 1, 4).length > CAP) n--
  const exact = pub('t', n, 1, 4)
  assert.is(exact.length, CAP)
  assert.equal(run(exact, 7, 4).seen, [['publish', 't', 1, n]])
  const over = pub('t', n + 1, 1, 4)
  assert.equal(run(over, 7, 4).seen, [['oversized', 't', 1, 1, CAP + 1]])
})

test('a QoS 0 oversized PUBLISH has no packet id', () => {
  const zero = pub('t/0', 5000, 0, 4, 0)
  assert.equal(run(zero, 50, 4).seen, [['oversized', 't/0', undefined, 0, zero.length]])
})

test('an oversized packet of another type, and a topic longer than the packet, are errors; nothing after them is read', () => {
  const suback = Buffer.concat([Buffer.from([0x90, 0x80, 0x10]), Buffer.alloc(2048)])
  const seen = run(Buffer.concat([suback, pub('in/a', 1, 1, 4)]), 64, 4).seen as Array<{ error?: string }>
  assert.is(seen.length, 1)
  assert.match(seen[0].error ?? '', /over mqtt.maxPacketBytes/)
  const liar = Buffer.from([0x32, 0x80, 0x10, 0xff, 0xff, 0x61])
  assert.equal(run(liar, 1, 4).seen, [{ error: 'Malformed Publish: its topic and packet id are longer than the packet' }])
})

test('a remaining length of five bytes is still mqtt-packet\'s error', () => {
  const seen = run(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00]), 1, 4).seen as Array<{ error?: string }>
  assert.match(seen[0].error ?? '', /Invalid variable byte integer|length/i)
})

test.run()

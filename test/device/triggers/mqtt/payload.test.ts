// How a trigger message's bytes become the event's payload part, per the trigger's `payload`
// format, and which bytes are refused with which code.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { decodePayload, MAX_PAYLOAD_DEPTH } from '../../../../device/triggers/mqtt/payload.js'

const BINARY = Buffer.from([0x00, 0xff, 0x80, 0x01, 0xc3])
const nested = (depth: number): Buffer => Buffer.from('['.repeat(depth) + ']'.repeat(depth))

test('auto: JSON when it parses, else text, else (not UTF-8) the exact bytes as base64', () => {
  assert.equal(decodePayload(Buffer.from('{"v":21.5}')), { payload: { v: 21.5 } })
  assert.equal(decodePayload(Buffer.from('plain €')), { payload: 'plain €' })
  assert.equal(decodePayload(BINARY), { payloadBase64: 'AP+AAcM=' })
  assert.equal(Buffer.from((decodePayload(BINARY) as { payloadBase64: string }).payloadBase64, 'base64'), BINARY)
  assert.equal(decodePayload(Buffer.alloc(0)), { payload: '' })
})

test('bytes: always base64, even for JSON', () => {
  assert.equal(decodePayload(Buffer.from('{"a":1}'), 'bytes'), { payloadBase64: Buffer.from('{"a":1}').toString('base64') })
})

test('json and text refuse what they cannot take with LAMBKIN_PAYLOAD_INVALID', () => {
  assert.equal(decodePayload(Buffer.from('[1]'), 'json'), { payload: [1] })
  assert.is((decodePayload(Buffer.from('nope'), 'json') as { code: string }).code, 'LAMBKIN_PAYLOAD_INVALID')
  assert.is((decodePayload(BINARY, 'json') as { code: string }).code, 'LAMBKIN_PAYLOAD_INVALID')
  assert.equal(decodePayload(Buffer.from('[1]'), 'text'), { payload: '[1]' })
  assert.is((decodePayload(BINARY, 'text') as { code: string }).code, 'LAMBKIN_PAYLOAD_INVALID')
})

test('JSON nested deeper than MAX_PAYLOAD_DEPTH is refused with LAMBKIN_INPUT_LIMIT; text and bytes take it', () => {
  assert.ok('payload' in decodePayload(nested(MAX_PAYLOAD_DEPTH)))
  for (const depth of [MAX_PAYLOAD_DEPTH + 1, 5000, 100_000]) {
    const d = decodePayload(nested(depth)) as { code: string, details: Record<string, unknown> }
    assert.is(d.code, 'LAMBKIN_INPUT_LIMIT')
    assert.is(d.details.limit, 'payloadDepth')
    assert.is((decodePayload(nested(depth), 'json') as { code: string }).code, 'LAMBKIN_INPUT_LIMIT')
  }
  assert.equal(decodePayload(nested(5000), 'text'), { payload: nested(5000).toString() })
  // Brackets inside strings, and escaped quotes, are not nesting.
  const inString = Buffer.from(JSON.stringify({ s: '['.repeat(5000) + '\\"{{{' }))
  assert.ok('payload' in decodePayload(inString))
  // Text that only looks deep (not JSON) stays text.
  assert.equal(decodePayload(Buffer.from('['.repeat(5000))), { payload: '['.repeat(5000) })
})

test.run()

// What counts as a reading in a sensor file, and what is refused.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseNumber, parseW1 } from '../../../../device/triggers/sensor/index.js'
import { UnreadableSample } from '../../../../device/triggers/sensor/parse.js'

const refused = (fn: () => unknown): UnreadableSample => {
  try {
    fn()
  } catch (err) {
    assert.instance(err, UnreadableSample)
    return err as UnreadableSample
  }
  throw new Error('expected a refusal')
}

test('numbers as sysfs writes them: integer with a newline, decimals, signs, exponents', () => {
  assert.is(parseNumber('48312\n'), 48312)
  assert.is(parseNumber('  -12.5 '), -12.5)
  assert.is(parseNumber('0.001220703125\n'), 0.001220703125)
  assert.is(parseNumber('+3e2'), 300)
  assert.is(parseNumber('.5'), 0.5)
})

test('garbage, empty files and things Number() would accept are refused', () => {
  for (const text of ['', '\n', 'abc', '12 34', '0x10', 'Infinity', 'NaN', '23C']) {
    assert.is(refused(() => parseNumber(text)).reason, 'unparseable', JSON.stringify(text))
  }
})

test('1-Wire: a good CRC gives t= in millidegrees, negative too', () => {
  assert.is(parseW1('72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n'), 23125)
  assert.is(parseW1('5e ff 4b 46 7f ff 02 10 15 : crc=15 YES\n5e ff 4b 46 7f ff 02 10 15 t=-10125\n'), -10125)
})

test('1-Wire: CRC NO is a failed sample; truncated or odd files are unparseable', () => {
  const crc = refused(() => parseW1('72 01 4b 46 7f ff 0e 10 57 : crc=12 NO\n72 01 4b 46 7f ff 0e 10 57 t=23125\n'))
  assert.is(crc.reason, 'crc')
  assert.ok(crc.message.includes('CRC'))
  assert.is(refused(() => parseW1('72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n')).reason, 'unparseable')
  assert.is(refused(() => parseW1('00 00 00 00 00 00 00 00 00 : crc=00 MAYBE\n00 t=0\n')).reason, 'unparseable')
  assert.is(refused(() => parseW1('72 01 : crc=57 YES\n72 01 4b 46\n')).reason, 'unparseable')
})

test('1-Wire: an all-zero scratchpad (passes the CRC, t=0) and an all-ones one (t=-62) are bus faults, whatever the verdict', () => {
  assert.is(refused(() => parseW1('00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n')).reason, 'all_zero')
  assert.is(refused(() => parseW1('ff ff ff ff ff ff ff ff ff : crc=c9 NO\nff ff ff ff ff ff ff ff ff t=-62\n')).reason, 'all_ones')
  assert.is(refused(() => parseW1('FF FF FF FF FF FF FF FF FF : crc=ff YES\nff ff ff ff ff ff ff ff ff t=-62\n')).reason, 'all_ones')
  assert.is(parseW1('00 00 4b 46 7f ff 0c 10 c8 : crc=c8 YES\n00 00 4b 46 7f ff 0c 10 c8 t=0\n'), 0, 'a real 0 °C reading is a reading')
})

test.run()

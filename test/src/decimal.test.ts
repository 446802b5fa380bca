import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseDecimalInteger, parseDecimalNumber } from '../../src/decimal.js'

test('integers: plain decimal digits only, within the safe range', () => {
  assert.is(parseDecimalInteger('0'), 0)
  assert.is(parseDecimalInteger('01883'), 1883)
  assert.is(parseDecimalInteger('9007199254740991'), Number.MAX_SAFE_INTEGER)
  for (const s of ['', ' 1', '1e3', '0x10', '0b1', '0o7', '+1', '-1', '1.0', '1_000', 'Infinity', '9007199254740993', '١']) {
    assert.is(parseDecimalInteger(s), undefined, s)
  }
})

test('numbers: a fraction is allowed, never an exponent or sign', () => {
  assert.is(parseDecimalNumber('2.5'), 2.5)
  assert.is(parseDecimalNumber('10'), 10)
  for (const s of ['1e3', '.5', '5.', '-1', '0x1', '']) assert.is(parseDecimalNumber(s), undefined, s)
})

test.run()

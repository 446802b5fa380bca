// The default device id made from a host name must always satisfy wire rule W1.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DEVICE_DEFAULTS, DEVICE_ID_PATTERN, deviceIdFromHostname } from '../../../device/config/index.js'

test('[W1] host names become valid device ids', () => {
  const cases: Array<[string, string]> = [
    ['raspberrypi', 'raspberrypi'],
    ['Greenhouse-7.lan', 'greenhouse-7'],
    ['My Pi', 'my-pi'],
    ['--weird', 'weird'],
    ['', 'lambkin'],
    ['...', 'lambkin'],
    ['ÄÖÜ', 'lambkin'],
    ['x'.repeat(100), 'x'.repeat(63)]
  ]
  for (const [host, id] of cases) {
    assert.is(deviceIdFromHostname(host), id, host)
    assert.ok(DEVICE_ID_PATTERN.test(deviceIdFromHostname(host)), host)
  }
  assert.ok(DEVICE_ID_PATTERN.test(DEVICE_DEFAULTS.id))
})

test('the defaults cannot be changed at run time', () => {
  assert.throws(() => { (DEVICE_DEFAULTS.outbox as { syncIntervalMs: number }).syncIntervalMs = 1 })
  assert.is(DEVICE_DEFAULTS.outbox.syncIntervalMs, 200)
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { downFilter, downTopic, isReservedTopic, parseDeviceTopic, upFilter, upTopic } from '../../../src/wire/index.js'

test('[W1] device topics are built under lambkin/v1 and parse back', () => {
  assert.is(upTopic('gh-01', 'batch'), 'lambkin/v1/gh-01/up/batch')
  assert.is(downTopic('gh-01', 'ack'), 'lambkin/v1/gh-01/down/ack')
  assert.equal(parseDeviceTopic('lambkin/v1/gh-01/up/batch'), { deviceId: 'gh-01', direction: 'up', kind: 'batch' })
  assert.is(downFilter('gh-01'), 'lambkin/v1/gh-01/down/#')
  assert.is(upFilter(), 'lambkin/v1/+/up/+')
  assert.is(upFilter('lambkin'), '$share/lambkin/lambkin/v1/+/up/+')
})

test('[W1] invalid device ids are refused when building and parsing', () => {
  assert.throws(() => upTopic('GH', 'batch'))
  assert.throws(() => upTopic('a/b', 'batch'))
  for (const t of ['lambkin/v1/GH/up/batch', 'lambkin/v2/gh/up/batch', 'lambkin/v1/gh/sideways/batch', 'lambkin/v1/gh/up', 'lambkin/v1/gh/up/batch/x', 'lambkin/v1/gh/up/', 'other/v1/gh/up/batch']) {
    assert.is(parseDeviceTopic(t), undefined, t)
  }
})

test('the lambkin/ tree is reserved, other topics are not', () => {
  assert.ok(isReservedTopic('lambkin/up/result'))
  assert.ok(isReservedTopic('lambkin'))
  assert.not.ok(isReservedTopic('lambkins/x'))
  assert.not.ok(isReservedTopic('alarms/lambkin'))
})

test.run()

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { redactUrls } from '../../src/redact.js'

test('the userinfo of every URL in a text is replaced, up to the last "@" before the path', () => {
  assert.is(redactUrls('mqtt://u:p@h:1883'), 'mqtt://***@h:1883')
  assert.is(redactUrls('mqtts://token@h/x?y=a@b'), 'mqtts://***@h/x?y=a@b')
  assert.is(redactUrls('mqtt://u:p@ss:w@h'), 'mqtt://***@h')
  assert.is(redactUrls('reconnecting to ws://a:b@h/mqtt, then wss://c:d@k'), 'reconnecting to ws://***@h/mqtt, then wss://***@k')
  assert.is(redactUrls('"mqtt://a:b@h"'), '"mqtt://***@h"')
})

test('text without credentials comes back unchanged', () => {
  for (const s of ['mqtt://127.0.0.1:1883', 'alarms/gh1 {"to":"a@b.c"}', 'http://h/path@x', '']) assert.is(redactUrls(s), s)
})

test.run()

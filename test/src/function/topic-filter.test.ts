import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isValidTopicFilter, isValidTopicName, reservedTopicProblem, topicMatches, topicNameProblem } from '../../../src/function/index.js'

test('valid topic filters', () => {
  for (const f of ['a', 'a/b', '+', '#', 'a/+/c', 'a/#', '+/+/#', '/', '/a', 'a/', 'a//b', '+/', '$SYS/#', 'sensors/temp erature', 'ünï/cødé']) {
    assert.ok(isValidTopicFilter(f), f)
  }
})

test('invalid topic filters: misplaced wildcards, empty, NUL, too long, not a string', () => {
  for (const f of ['', 'a/#/b', 'a#', '#a', 'a/b#', 'a/b+', '+a', 'a/+b/c', '#/a', '##', '++', 'a\u0000b']) {
    assert.not.ok(isValidTopicFilter(f), JSON.stringify(f))
  }
  assert.ok(isValidTopicFilter('a'.repeat(65535)))
  assert.not.ok(isValidTopicFilter('a'.repeat(65536)))
  // 21846 three-byte characters are 65538 UTF-8 bytes: the limit is in bytes, not characters.
  assert.not.ok(isValidTopicFilter('€'.repeat(21846)))
  assert.ok(isValidTopicFilter('€'.repeat(21845)))
  for (const f of [undefined, null, 1, ['a'], {}]) assert.not.ok(isValidTopicFilter(f), String(f))
})

test('topic names: no wildcards, not empty', () => {
  for (const t of ['a', 'a/b', '/', 'a//b', '$SYS/x']) assert.ok(isValidTopicName(t), t)
  for (const t of ['', 'a/+', 'a/#', '#', 'a\u0000', 7]) assert.not.ok(isValidTopicName(t), String(t))
})

test('MQTT 5 section 1.5.4: control characters, non-characters and lone surrogates are refused in names and filters', () => {
  const bad = ['a\u0001b', 'a\u001fb', 'a\nb', 'a\u007fb', 'a\u0080b', 'a\u009fb', 'a\ufdd0b', 'a\ufdefb', 'a\ufffeb', 'a\uffffb',
    'a\ud83f\udffeb', 'a\udbff\udfffb', 'a\ud800b', 'a\ud800', 'a\udc00b']
  for (const t of bad) {
    assert.not.ok(isValidTopicName(t), JSON.stringify(t))
    assert.not.ok(isValidTopicFilter(t), JSON.stringify(t))
    assert.ok(topicNameProblem(t) !== undefined)
  }
  // Neighbours that are fine: U+00A0, U+FDCF, U+FFFD, U+1FFFD, a well-formed pair.
  for (const t of ['a\u00a0b', 'a\ufdcfb', 'a\ufffdb', 'a\ud83f\udffdb', 'caf\u00e9/\ud83d\ude00']) {
    assert.ok(isValidTopicName(t), JSON.stringify(t))
    assert.ok(isValidTopicFilter(t), JSON.stringify(t))
  }
  assert.ok(isValidTopicName('\u20ac'.repeat(21845)))
  assert.not.ok(isValidTopicName('\u20ac'.repeat(21846)))
  assert.match(topicNameProblem('a+b') ?? '', 'wildcard')
})

test('reserved trees: lambkin/ for the cloud link and $ for the broker', () => {
  for (const t of ['lambkin', 'lambkin/up/result', 'lambkin//x', '$SYS/x', '$share/g/t']) assert.ok(reservedTopicProblem(t) !== undefined, t)
  for (const t of ['lambkins', 'lambkin2/x', 'x/lambkin', 'Lambkin/x', 'a$']) assert.is(reservedTopicProblem(t), undefined, t)
})

test('[W1] matching table: + is one level, # is the rest including the parent', () => {
  const table: Array<[string, string, boolean]> = [
    ['sensors/+/temperature', 'sensors/gh1/temperature', true],
    ['sensors/+/temperature', 'sensors/gh1/x/temperature', false],
    ['sensors/+/temperature', 'sensors/temperature', false],
    ['sensors/+/temperature', 'sensors//temperature', true],
    ['sensors/#', 'sensors', true],
    ['sensors/#', 'sensors/a', true],
    ['sensors/#', 'sensors/a/b/c', true],
    ['sensors/#', 'sensorsx/a', false],
    ['sensors/+', 'sensors', false],
    ['sensors/+', 'sensors/', true],
    ['sensors/+', 'sensors/a/b', false],
    ['+', 'a', true],
    ['+', 'a/b', false],
    ['+', '/a', false],
    ['/+', '/a', true],
    ['+/+', '/a', true],
    ['#', 'a/b/c', true],
    ['#', '/', true],
    ['a/b', 'a/b', true],
    ['a/b', 'a/b/c', false],
    ['a/b', 'a', false],
    ['a/b', 'A/b', false],
    ['a/b/', 'a/b', false],
    ['a/+/#', 'a/x', true],
    ['a/+/#', 'a', false]
  ]
  for (const [f, t, want] of table) assert.is(topicMatches(f, t), want, `${f} ~ ${t}`)
})

test('[W1] $ topics are not matched by a leading wildcard, only by a literal first level', () => {
  assert.not.ok(topicMatches('#', '$SYS/broker/uptime'))
  assert.not.ok(topicMatches('+/broker/uptime', '$SYS/broker/uptime'))
  assert.not.ok(topicMatches('+/#', '$SYS/broker'))
  assert.ok(topicMatches('$SYS/#', '$SYS/broker/uptime'))
  assert.ok(topicMatches('$SYS/+/uptime', '$SYS/broker/uptime'))
  // Only the first level is special: a later level may start with $.
  assert.ok(topicMatches('a/+', 'a/$x'))
})

test('a topic that is not a valid name matches nothing, so publish checks cannot be fooled', () => {
  assert.not.ok(topicMatches('alarms/#', 'alarms/#'))
  assert.not.ok(topicMatches('alarms/+', 'alarms/+'))
  assert.not.ok(topicMatches('#', ''))
})

test.run()

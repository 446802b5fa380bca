// `lambkin deploy`'s flags: targets, numbers, the canary rules, and where the signing key comes from.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidArgumentError } from 'commander'
import { DEFAULT_KEY_FILE, numberOption, parseRate, parseTarget, rolloutRequest, signingKeyFile } from '../../cli/deploy-options.js'
import type { LambkinError } from '../../src/errors.js'

const invalid = (e: unknown): boolean => e instanceof InvalidArgumentError

test('--to takes a device id or group:<name>, and nothing else', () => {
  assert.is(parseTarget('gh-01'), 'gh-01')
  assert.is(parseTarget('group:greenhouse'), 'group:greenhouse')
  for (const bad of ['', 'GH', 'group:', 'group:Bad Name', 'a/b', 'group:a:b', '-x']) {
    assert.throws(() => parseTarget(bad), (e: unknown) => e instanceof InvalidArgumentError && /--to must be/.test((e as Error).message), bad)
  }
})

test('numbers are plain decimals within their range; --rate is one device a year or more', () => {
  const pct = numberOption('--abort-at', 0, 100)
  assert.is(pct('0'), 0)
  assert.is(pct('12.5'), 12.5)
  for (const bad of ['101', '-1', '1e1', '0x10', ' 5', '']) assert.throws(() => pct(bad), invalid, bad)
  const canary = numberOption('--canary', 1, 99, true)
  assert.is(canary('10'), 10)
  assert.throws(() => canary('10.5'), invalid)
  assert.throws(() => canary('100'), invalid)
  assert.is(parseRate('0.5'), 0.5)
  assert.throws(() => parseRate('0'), invalid)
  // One a year is the slowest pace: slower, the next device would never be released.
  assert.is(parseRate('0.000002'), 0.000002)
  assert.throws(() => parseRate('0.000001'), invalid)
  assert.throws(() => parseRate('1e-320'), invalid)
})

test('the rollout request: live by default, --canary makes a canary with its weight, seconds become ms', () => {
  assert.equal(rolloutRequest({ to: 'gh-01' }), { to: 'gh-01', alias: 'live' })
  assert.equal(rolloutRequest({ to: 'group:g', canary: 10, rate: 30, abortAt: 20, timeout: 1.5 }), { to: 'group:g', alias: 'canary', weight: 10, ratePerMin: 30, abortAtPercent: 20, timeoutMs: 1500 })
  assert.equal(rolloutRequest({ to: 'g', alias: 'canary', canary: 5 }).weight, 5)
})

test('alias and canary combinations that mean nothing are LAMBKIN_USAGE', () => {
  const usage = (e: unknown): boolean => (e as { code?: string }).code === 'LAMBKIN_USAGE'
  assert.throws(() => rolloutRequest({ to: 'g', alias: 'canary' }), usage)
  assert.throws(() => rolloutRequest({ to: 'g', alias: 'live', canary: 5 }), usage)
  assert.throws(() => rolloutRequest({ to: 'g', alias: 'beta' }), usage)
})

test('the signing key: --key, else LAMBKIN_KEY, else ./lambkin.key', () => {
  assert.is(signingKeyFile('/k/a.key', { LAMBKIN_KEY: '/k/b.key' }), '/k/a.key')
  assert.is(signingKeyFile(undefined, { LAMBKIN_KEY: '/k/b.key' }), '/k/b.key')
  assert.is(signingKeyFile(undefined, { LAMBKIN_KEY: '' }), DEFAULT_KEY_FILE)
  // A CRLF env file's line end: refused with the variable named, not read as a missing file.
  assert.throws(() => signingKeyFile(undefined, { LAMBKIN_KEY: '/k/b.key\r' }), (e: LambkinError) => e.code === 'LAMBKIN_CONFIG_INVALID' && /LAMBKIN_KEY holds the control character "\\r" at character 9 of 9/.test(e.message))
  assert.is(DEFAULT_KEY_FILE, 'lambkin.key')
})

test.run()

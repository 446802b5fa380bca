// What a person sees while a rollout goes out: the bar, one line per device, and the outcome.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BAR_WIDTH, ProgressPrinter, deviceLine, progressBar } from '../../cli/rollout-progress.js'
import { diffRollout, rolloutOutcome } from '../../cli/rollout-events.js'
import { rolloutView } from '../helpers/rollout-view.js'

test('the bar fills with the share of targets that answered, and shows the counts', () => {
  const c = rolloutView({ a: 'applied', b: 'failed', c: 'sent', d: 'pending' }).counts
  assert.is(progressBar(c), `[${'#'.repeat(BAR_WIDTH / 2)}${'-'.repeat(BAR_WIDTH / 2)}] 2/4  1 applied, 1 failed, 2 waiting`)
  assert.match(progressBar(rolloutView({ a: 'applied' }).counts), `[${'#'.repeat(BAR_WIDTH)}] 1/1`)
  assert.match(progressBar(rolloutView({}).counts), /\] 0\/0/)
})

test('device lines: applied with the version, failures with code and reason, offline waiting; control characters escaped', () => {
  assert.is(deviceLine({ event: 'device', rollout: 'r', device: 'a', state: 'applied', version: '0123456789abcdef' }, 3), '  a    applied      version 0123456789abcdef')
  assert.is(deviceLine({ event: 'device', rollout: 'r', device: 'b', state: 'failed', code: 'LAMBKIN_KEY_UNTRUSTED', message: 'key 12 \x1b[2J' }), '  b  failed       LAMBKIN_KEY_UNTRUSTED: key 12 \\x1b[2J')
  assert.match(deviceLine({ event: 'device', rollout: 'r', device: 'c', state: 'offline' }), /offline\s+waiting/)
  assert.match(deviceLine({ event: 'device', rollout: 'r', device: 'd', state: 'rolled-back', code: 'LAMBKIN_HEALTH_CHECK_FAILED' }), /rolled back\s+LAMBKIN_HEALTH_CHECK_FAILED/)
  assert.is(deviceLine({ event: 'device', rollout: 'r', device: 'e', state: 'applied', version: '0123456789abcdef', health: 'superseded', message: 'superseded by rollout r2 while its health window was open' }), '  e  superseded   version 0123456789abcdef, superseded by rollout r2 while its health window was open')
})

function print (tty: boolean): { out: string, err: string } {
  const s = { out: '', err: '' }
  const p = new ProgressPrinter((x) => { s.out += x }, (x) => { s.err += x }, tty, 1)
  const v1 = rolloutView({ a: 'sent', b: 'sent' })
  const v2 = rolloutView({ a: 'applied', b: 'sent' }, { revision: 2 })
  const v3 = rolloutView({ a: 'applied', b: { state: 'failed', code: 'LAMBKIN_DEPLOY_TIMEOUT', message: 'no answer in 120 s' } }, { revision: 3, state: 'done' })
  for (const e of [...diffRollout(undefined, v1), ...diffRollout(v1, v2), ...diffRollout(v2, v3), rolloutOutcome(v3)]) p.show(e)
  return s
}

test('on a terminal the bar stays the last line, redrawn in place under each device line', () => {
  const { out, err } = print(true)
  assert.match(out, '\r\x1b[K[------------------------] 0/2')
  assert.match(out, '\r\x1b[K  a  applied\n[------------')
  assert.ok(out.endsWith('\r\x1b[K[########################] 2/2  1 applied, 1 failed\n'), JSON.stringify(out.slice(-80)))
  assert.is(err, 'LAMBKIN_DEPLOY_TIMEOUT: rollout r-1: 1 device of 2 did not apply; 1 applied, 1 failed (b: LAMBKIN_DEPLOY_TIMEOUT: no answer in 120 s)\n')
})

test('off a terminal: plain device lines, no escape codes, the outcome on stderr', () => {
  const { out, err } = print(false)
  assert.is(out, '  a  applied\n  b  failed       LAMBKIN_DEPLOY_TIMEOUT: no answer in 120 s\n')
  assert.match(err, /^LAMBKIN_DEPLOY_TIMEOUT: /)
})

test.run()

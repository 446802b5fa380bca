import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { backlogCell } from '../../cli/commands/status.js'

const backlog = { records: 12, bytes: 2048 }

test('an online board shows its backlog as it is', () => {
  assert.is(backlogCell({ state: 'online', backlog, backlogAt: 1_000 }), '12 (2.0 KiB)')
})

test('a board away from the cloud shows when it last reported its backlog', () => {
  assert.match(backlogCell({ state: 'offline', backlog, backlogAt: Date.UTC(2026, 11, 6, 12) }), /^12 \(2\.0 KiB\) as of /)
})

test('[W4] in a conflict the backlog is whichever board heartbeated last, and the cell says so', () => {
  assert.is(backlogCell({ state: 'conflict', backlog, backlogAt: 1_000 }), '12 (2.0 KiB), one of the boards on this id')
})

test('no heartbeat yet: a dash', () => {
  assert.is(backlogCell({ state: 'never-seen', backlog: null, backlogAt: null }), '-')
})

test.run()

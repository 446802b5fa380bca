// Log lines for the journal: a priority prefix per line only when stderr is the stream
// JOURNAL_STREAM names, and the priority of a line that carries none.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { formatLog, isJournal, logLine } from '../../cli/log.js'
import { priorityOf } from '../../src/log-priority.js'

test('isJournal: true only for the fd whose device and inode JOURNAL_STREAM names', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-journal-'))
  const a = openSync(path.join(dir, 'a'), 'w')
  const b = openSync(path.join(dir, 'b'), 'w')
  try {
    const st = fstatSync(a, { bigint: true })
    const env = { JOURNAL_STREAM: `${st.dev}:${st.ino}` }
    assert.ok(isJournal(a, env))
    assert.not.ok(isJournal(b, env), 'another stream inherits the variable but is not the journal')
    assert.not.ok(isJournal(a, {}))
    assert.not.ok(isJournal(a, { JOURNAL_STREAM: 'garbage' }))
    assert.not.ok(isJournal(9999, env), 'a closed fd')
  } finally {
    closeSync(a)
    closeSync(b)
    rmSync(dir, { recursive: true, force: true })
  }
})

test('formatLog: one prefix per physical line in the journal, plain lines elsewhere', () => {
  assert.is(formatLog('[fn] ok 1.2ms', 'info', true), '<6>[fn] ok 1.2ms\n')
  assert.is(formatLog('LAMBKIN_INTERNAL: boom\n    at x\n', 'err', true), '<3>LAMBKIN_INTERNAL: boom\n<3>    at x\n')
  assert.is(formatLog('[fn] ok 1.2ms', 'info', false), '[fn] ok 1.2ms\n')
})

test('priorityOf: an error code makes an error, WARNING a warning, the rest a notice', () => {
  assert.is(priorityOf('LAMBKIN_CONFIG_INVALID: config key "x" ...'), 'err')
  assert.is(priorityOf('function f not loaded: LAMBKIN_MANIFEST_INVALID: bad'), 'err')
  assert.is(priorityOf('[fn] LAMBKIN_TIMEOUT: took too long'), 'err')
  assert.is(priorityOf('WARNING: the embedded broker on 0.0.0.0:1883 is OPEN'), 'warning')
  assert.is(priorityOf('cloud: connected to mqtt://cloud:1883 as gh-01'), 'notice')
  assert.is(priorityOf('a payload mentioning NOT_LAMBKIN_X: here'), 'notice')
})

test('logLine writes through the command\'s io, prefixed only when io.journal', () => {
  const out: string[] = []
  logLine({ stdout: () => {}, stderr: (s) => out.push(s), journal: true }, 'LAMBKIN_X_Y: z')
  logLine({ stdout: () => {}, stderr: (s) => out.push(s), journal: true }, 'hello', 'debug')
  logLine({ stdout: () => {}, stderr: (s) => out.push(s) }, 'hello', 'err')
  assert.equal(out, ['<3>LAMBKIN_X_Y: z\n', '<7>hello\n', 'hello\n'])
})

test.run()

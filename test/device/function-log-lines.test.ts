// Function log lines on the console: name and level on one line, filtered by functionLogs, at
// the level's journal priority.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { functionLogLine, functionLogPrinter } from '../../device/function-log-lines.js'
import type { Priority } from '../../src/log-priority.js'
import type { LogEntry } from '../../src/sandbox/index.js'

const LINES: LogEntry[] = [
  { level: 'debug', time: 1, msg: 'raw' },
  { level: 'info', time: 2, msg: 'tick' },
  { level: 'warn', time: 3, msg: 'stuck' },
  { level: 'error', time: 4, msg: 'gone' }
]

function printed (lowest: Parameters<typeof functionLogPrinter>[0]): Array<[string, Priority | undefined]> {
  const out: Array<[string, Priority | undefined]> = []
  functionLogPrinter(lowest, (line, priority) => out.push([line, priority]))?.('fan', LINES)
  return out
}

test('each line names the function and its level', () => {
  assert.is(functionLogLine('fan', { level: 'warn', time: 0, msg: 'stuck' }), '[fan] warn: stuck')
})

test('debug shows every line, at the journal priority of its level', () => {
  assert.equal(printed('debug'), [['[fan] debug: raw', 'debug'], ['[fan] info: tick', 'info'], ['[fan] warn: stuck', 'warning'], ['[fan] error: gone', 'err']])
})

test('a level shows itself and above; off shows nothing and listens to nothing', () => {
  assert.equal(printed('warn').map(([l]) => l), ['[fan] warn: stuck', '[fan] error: gone'])
  assert.equal(printed('error').map(([l]) => l), ['[fan] error: gone'])
  assert.is(functionLogPrinter('off', () => {}), undefined)
})

test.run()

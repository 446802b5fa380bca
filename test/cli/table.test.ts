import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { printable, table } from '../../cli/table.js'

test('control characters a device or function wrote never reach the terminal raw', () => {
  assert.is(printable('a\u001b[31mred\u0007\u009b'), 'a\\x1b[31mred\\x07\\x9b')
  assert.is(printable('plain ünï €'), 'plain ünï €')
  const t = table(['A'], [['\u001b[2Jx']])
  assert.not.ok(t.includes('\u001b'))
})

test.run()

// One line of inert text for every log sink (src/log-text.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { logText } from '../../src/log-text.js'

test('newlines, ESC, DEL, C1, line separators and bidi controls are escaped; other text is kept', () => {
  assert.is(logText('a\nb\r\tc'), 'a\\x0ab\\x0d\\x09c')
  assert.is(logText('\u001b[31mred\u001b[0m'), '\\x1b[31mred\\x1b[0m')
  assert.is(logText('\u007f\u0085\u009b'), '\\x7f\\x85\\x9b')
  assert.is(logText('x\u2028y\u2029z'), 'x\\u2028y\\u2029z')
  assert.is(logText('ab\u202ecd\u2066'), 'ab\\u202ecd\\u2066')
  assert.is(logText('grüße 温度 ✓ "q" \\ ok'), 'grüße 温度 ✓ "q" \\ ok')
  assert.not.match(logText(String.fromCharCode(...Array.from({ length: 0xa0 }, (_, i) => i))), /[\u0000-\u001f\u007f-\u009f]/)
})

test.run()

// The escaping and number rules of the text format, and the test reader's own strictness
// (a reader that accepted anything would make every Prometheus assertion meaningless).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { escapeHelp, escapeLabelValue, formatLabels, formatValue, assertMetricName } from '../../../device/metrics/exposition.js'
import { parsePrometheus } from './prom-text.js'

test('label values escape backslash, double quote and line feed, and nothing else', () => {
  assert.is(escapeLabelValue('a\\b"c\nd\te'), 'a\\\\b\\"c\\nd\te')
  assert.is(escapeLabelValue('plain/topic+#'), 'plain/topic+#')
  assert.is(formatLabels({ function: 'x', code: 'y"' }), '{function="x",code="y\\""}')
  assert.is(formatLabels({}), '')
  assert.is(formatLabels({}, ['le', '+Inf']), '{le="+Inf"}')
})

test('HELP text escapes backslash and line feed but keeps quotes', () => {
  assert.is(escapeHelp('say "hi"\\\nnext'), 'say "hi"\\\\\\nnext')
})

test('numbers print as Prometheus reads them', () => {
  assert.is(formatValue(0.0005), '0.0005')
  assert.is(formatValue(3), '3')
  assert.is(formatValue(Infinity), '+Inf')
  assert.is(formatValue(-Infinity), '-Inf')
  assert.is(formatValue(Number.NaN), 'NaN')
  assert.is(formatValue(1e21), '1e+21')
})

test('metric names must be valid', () => {
  assertMetricName('lambkin_ok:total')
  assert.throws(() => assertMetricName('9lives'))
  assert.throws(() => assertMetricName('has-dash'))
  assert.throws(() => assertMetricName(''))
})

test('the test reader refuses text a scraper would refuse', () => {
  const bad = [
    'x{a="b} 1\n',
    'x{a="b\\t"} 1\n',
    'x 1',
    'x abc\n',
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
    '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n',
    '# TYPE a counter\na 1\n# TYPE b counter\nb 1\na 2\n'
  ]
  for (const text of bad) assert.throws(() => parsePrometheus(text), undefined, JSON.stringify(text))
  const good = parsePrometheus('# HELP a A \\"q\\" \\\\ \\n.\n# TYPE a counter\na{l="\\"\\\\\\n"} 1.5e3\n')
  assert.is(good.get('a')?.help, 'A \\"q\\" \\ \n.')
  assert.equal(good.get('a')?.samples, [{ name: 'a', labels: { l: '"\\\n' }, value: 1500 }])
})

test.run()

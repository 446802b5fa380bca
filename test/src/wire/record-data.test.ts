// [W2][W8] Record data as a JSON API can answer it (src/wire/record-data.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Tag } from 'cbor-x'
import { DATA_MAX_DEPTH, dataProblem, parseBatch, parseInvokeResult, readableData } from '../../../src/wire/index.js'

const deep = (n: number): unknown => { let v: unknown = []; for (let i = 1; i < n; i++) v = [v]; return v }

test('plain JSON values, bytes, undefined, NaN and safe BigInts are taken', () => {
  for (const [i, v] of [null, undefined, true, 1.5, NaN, -Infinity, 'x', 2n ** 53n - 1n, -(2n ** 53n) + 1n, [1, [2]], { a: { b: 'c' } }, Object.create(null), new Uint8Array(3), Buffer.from('ab'), deep(DATA_MAX_DEPTH)].entries()) {
    assert.is(dataProblem(v), undefined, `case ${i}`)
  }
})

test('what JSON cannot show is refused with its reason', () => {
  const circular: Record<string, unknown> = {}
  circular.self = circular
  const shared = { x: 1 }
  const cases: Array<[unknown, string]> = [
    [2n ** 53n, 'integer'], [-(2n ** 64n), 'integer'], [{ a: [2n ** 63n] }, 'integer'],
    [new Date(0), 'tag'], [new Set([1]), 'tag'], [new Map([[1, 2]]), 'tag'], [/a/, 'tag'], [new Error('e'), 'tag'],
    [new Tag(1, 99), 'tag'], [new Float64Array(1), 'tag'], [{ d: new Uint16Array(1) }, 'tag'],
    [circular, 'shared'], [[shared, shared], 'shared'],
    [deep(DATA_MAX_DEPTH + 1), 'depth']
  ]
  for (const [v, reason] of cases) assert.is(dataProblem(v)?.reason, reason, String(v))
})

test('a DAG of shared references that would expand to 2^40 nodes is refused at once', () => {
  let v: unknown = [1]
  for (let i = 0; i < 40; i++) v = [v, v]
  assert.is(dataProblem(v)?.reason, 'shared')
})

test('readableData answers the value itself when fine, numbers for safe BigInts, a placeholder otherwise', () => {
  const fine = { a: [1, 'x', null] }
  assert.is(readableData(fine), fine)
  assert.equal(JSON.parse(JSON.stringify(readableData({ n: 5n, list: [7n] }))), { n: 5, list: [7] })
  assert.is(readableData(3n), 3)
  const circular: Record<string, unknown> = {}
  circular.self = circular
  const p = readableData({ c: circular }) as { unreadable: string }
  assert.match(p.unreadable, /^data-shared: /)
  assert.match((readableData(2n ** 64n) as { unreadable: string }).unreadable, /^data-integer: /)
  assert.match((readableData(deep(5000)) as { unreadable: string }).unreadable, /^data-depth: /)
})

test('[W2] parseBatch refuses a record whose data JSON cannot show, naming the record and the reason', () => {
  try {
    parseBatch({ records: [{ seq: 1, kind: 'result', time: 1, data: { ok: 1 } }, { seq: 2, kind: 'result', time: 1, data: { big: 2n ** 64n } }] })
    assert.unreachable()
  } catch (err) {
    assert.is((err as { code?: string }).code, 'LAMBKIN_WIRE_INVALID')
    assert.is((err as { details: { reason: string } }).details.reason, 'data-integer')
    assert.match((err as Error).message, /^records\[1\]\.data holds the integer 18446744073709551616/)
  }
})

test('[W7] an invoke result JSON cannot show is answered as a placeholder, not dropped', () => {
  const r = parseInvokeResult({ id: 'a', fn: 'f', ok: true, durationMs: 1, result: { when: new Date(0) } })
  assert.match((r.result as { unreadable: string }).unreadable, /^data-tag: /)
})

test.run()

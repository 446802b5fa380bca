// The good-entry history of a desired slot (deploy-plan.ts): what rollback and abort may go
// back to. Pure functions.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { GOOD_HISTORY } from '../../../cloud-sync/registry/index.js'
import type { DesiredRow } from '../../../cloud-sync/registry/index.js'
import { goodBefore, planHistory } from '../../../cloud-sync/registry/deploy-plan.js'
import type { DesiredFunction } from '../../../src/wire/index.js'

const entry = (v: string, canary?: string): DesiredFunction => ({
  name: 'f',
  live: { version: v, number: 1, sha256: v.repeat(64).slice(0, 64), size: 1, signature: new Uint8Array(64), keyId: '0'.repeat(16) },
  ...(canary === undefined ? {} : { canary: { version: canary, number: 2, sha256: canary.repeat(64).slice(0, 64), size: 1, signature: new Uint8Array(64), keyId: '0'.repeat(16), weight: 10 } })
})
const rowWith = (current: DesiredFunction, good: DesiredFunction[] = []): DesiredRow => ({ device: 'd', deploymentId: 1, updatedAt: 0, functions: { f: { current, good } } })

test('good entries go to the end once each, at most GOOD_HISTORY; a bad version leaves it (live or canary); rows without the slot are untouched', () => {
  let row = rowWith(entry('a'))
  for (const v of ['a', 'b', 'a', 'c', 'd', 'e', 'f']) row = planHistory(new Map([['d', row]]), [{ device: 'd', fn: 'f', good: entry(v) }])[0]
  assert.equal(row.functions.f.good?.map((e) => e.live.version), ['b', 'a', 'c', 'd', 'e', 'f'].slice(-GOOD_HISTORY))
  row = planHistory(new Map([['d', rowWith(entry('a'), [entry('a'), entry('a', 'b'), entry('c')])]]), [{ device: 'd', fn: 'f', badVersion: 'b' }])[0]
  assert.equal(row.functions.f.good?.map((e) => e.live.version), ['a', 'c'])
  assert.equal(planHistory(new Map([['d', undefined], ['x', rowWith(entry('a'))]]), [{ device: 'd', fn: 'f', good: entry('a') }, { device: 'x', fn: 'g', good: entry('a') }]), [])
})

test('goodBefore: the newest good entry that differs from current, or undefined', () => {
  assert.is(goodBefore(rowWith(entry('c'), [entry('a'), entry('b'), entry('c')]).functions.f)?.live.version, 'b')
  assert.is(goodBefore(rowWith(entry('a', 'b'), [entry('a'), entry('a', 'b')]).functions.f)?.canary, undefined)
  assert.is(goodBefore(rowWith(entry('a'), [entry('a')]).functions.f), undefined)
  assert.is(goodBefore(undefined), undefined)
})

test.run()

// The start scope shared by Agent.create and Cloud.create: undos run last first, once; a
// failing undo is logged and the rest still run; close() reports every failure at the end.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CloseErrors, Scope } from '../../src/scope.js'

test('undos run in reverse start order, each once, and a step with nothing to undo adds none', async () => {
  const seen: string[] = []
  const scope = new Scope(() => {})
  await scope.step('store', () => () => { seen.push('store') })
  await scope.step('functions', () => undefined)
  await scope.step('links', async () => async () => { await Promise.resolve(); seen.push('links') })
  scope.defer('metrics', () => { seen.push('metrics') })
  assert.equal(scope.steps, ['store', 'links', 'metrics'])
  assert.is(await scope.close(), undefined)
  assert.is(await scope.close(), undefined)
  assert.equal(seen, ['metrics', 'links', 'store'])
})

test('a failing undo is logged, the rest still run, and all failures come back together', async () => {
  const lines: string[] = []
  const seen: string[] = []
  const scope = new Scope((line) => lines.push(line))
  scope.defer('store', () => { seen.push('store') })
  scope.defer('links', () => { throw new Error('link stuck') })
  scope.defer('cloud', async () => { await Promise.reject(new Error('cloud gone')) })
  scope.defer('metrics', () => { seen.push('metrics') })
  const report = await scope.close()
  assert.equal(seen, ['metrics', 'store'])
  assert.equal(lines, ['while closing cloud: cloud gone', 'while closing links: link stuck'])
  assert.instance(report, CloseErrors)
  assert.instance(report, AggregateError)
  assert.equal(report?.steps, ['cloud', 'links'])
  assert.equal(report?.errors.map((e: Error) => e.message), ['cloud gone', 'link stuck'])
})

test('a step that throws keeps no undo of its own; the ones before it are closed', async () => {
  const seen: string[] = []
  const scope = new Scope(() => {})
  await scope.step('store', () => () => { seen.push('store') })
  try {
    await scope.step('functions', async () => { throw new Error('bad folder') })
    assert.unreachable('the step threw')
  } catch (err) {
    assert.is((err as Error).message, 'bad folder')
  }
  await scope.close()
  assert.equal(seen, ['store'])
})

test.run()

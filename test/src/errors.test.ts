// LambkinError's public shape (code, message, details), how an error is recognised once it
// has crossed a worker boundary, errorMessage on anything thrown, and that a failing uvu test
// that throws a LambkinError still fails the run.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { MessageChannel } from 'node:worker_threads'
import { ErrorCodes, LambkinError, errorMessage, fromJSON, isLambkinError } from '../../src/errors.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

test('details are public, plain to JSON, Object.keys and deep equality', () => {
  const err = new LambkinError(ErrorCodes.CONFIG_INVALID, 'bad key', { details: { key: 'metricsPort', max: 65535 } })
  assert.equal(err.details, { key: 'metricsPort', max: 65535 })
  assert.equal(Object.keys(err.details), ['key', 'max'])
  assert.equal(JSON.parse(JSON.stringify(err)), { code: 'LAMBKIN_CONFIG_INVALID', message: 'bad key', details: { key: 'metricsPort', max: 65535 } })
  assert.equal(new LambkinError(ErrorCodes.CONFIG_INVALID, 'x').details, {})
})

test('hostile detail keys stay data: __proto__, constructor, and a split of the caller\'s own', () => {
  const details = JSON.parse('{"__proto__": {"polluted": true}, "constructor": "c", "split": 7}') as Record<string, unknown>
  const err = new LambkinError(ErrorCodes.WIRE_INVALID, 'x', { details })
  assert.equal(Object.keys(err.details).sort(), ['__proto__', 'constructor', 'split'])
  assert.is(err.details.split, 7)
  assert.is(({} as Record<string, unknown>).polluted, undefined)
})

test('isLambkinError knows an error by its code, also after a worker boundary (JSON form, no class)', async () => {
  const err = new LambkinError(ErrorCodes.INPUT_LIMIT, 'too deep', { details: { limit: 'payloadDepth' } })
  const { port1, port2 } = new MessageChannel()
  const received = new Promise<unknown>((resolve) => port2.once('message', resolve))
  port1.postMessage(err.toJSON())
  const crossed = await received
  port1.close()
  assert.not.ok(crossed instanceof LambkinError)
  assert.ok(isLambkinError(err))
  assert.ok(isLambkinError(crossed))
  assert.is(fromJSON(crossed as { code: string, message: string }).code, 'LAMBKIN_INPUT_LIMIT')
  for (const other of [new Error('plain'), Object.assign(new Error('e'), { code: 'ENOENT' }), { code: 'LAMBKIN_NOT_A_CODE', message: 'm' }, { code: 'LAMBKIN_INPUT_LIMIT' }, null, 'LAMBKIN_INPUT_LIMIT', undefined]) {
    assert.not.ok(isLambkinError(other), String(JSON.stringify(other)))
  }
})

test('errorMessage reads whatever was thrown', () => {
  assert.is(errorMessage(new RangeError('out')), 'out')
  assert.is(errorMessage({ message: 'from a worker' }), 'from a worker')
  assert.is(errorMessage('a string'), 'a string')
  assert.is(errorMessage(null), 'null')
  assert.is(errorMessage(undefined), 'undefined')
  assert.is(errorMessage(42), '42')
})

test('a uvu test failing with a LambkinError fails the run and prints its details', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-uvu-'))
  try {
    const errors = pathToFileURL(path.join(ROOT, 'dist', 'src', 'errors.js')).href
    const uvu = pathToFileURL(path.join(ROOT, 'node_modules', 'uvu', 'dist', 'index.mjs')).href
    writeFileSync(path.join(dir, 'fails.test.mjs'), [
      `import { test } from '${uvu}'`,
      `import { LambkinError } from '${errors}'`,
      "test('throws', () => { throw new LambkinError('LAMBKIN_CONFIG_INVALID', 'the message', { details: { key: 'the-key' } }) })",
      'test.run()'
    ].join('\n'))
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'uvu', 'bin.js'), dir, 'fails\\.test\\.mjs$'], { encoding: 'utf8' })
    assert.is(r.status, 1, r.stdout + r.stderr)
    assert.match(r.stdout, 'the message')
    assert.match(r.stdout, 'the-key')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()

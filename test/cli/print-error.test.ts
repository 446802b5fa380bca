// What a command prints for an error that carries no lambkin code: a full disk or an I/O error
// by its own code, anything else LAMBKIN_INTERNAL with the original message, never a sandbox
// crash (the fallback before, which sent a full card's operator to the sandbox docs).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { writeFileSync } from 'node:fs'
import { printError, type CliIo } from '../../cli/io.js'
import { LambkinError } from '../../src/errors.js'

function capture (): { io: CliIo, out: string[] } {
  const out: string[] = []
  return { io: { stdout: (s: string) => { out.push(s) }, stderr: (s: string) => { out.push(s) } }, out }
}

function thrown (fn: () => void): unknown {
  try { fn() } catch (err) { return err }
  throw new Error('did not throw')
}

test('a full disk (a real ENOSPC from /dev/full) is LAMBKIN_NO_SPACE, also under a cause', () => {
  const full = thrown(() => writeFileSync('/dev/full', 'x'))
  for (const err of [full, new Error('could not save the key', { cause: full })]) {
    const { io, out } = capture()
    assert.is(printError(io, err, true), 1)
    const printed = JSON.parse(out.join('')) as { error: { code: string, message: string } }
    assert.is(printed.error.code, 'LAMBKIN_NO_SPACE')
  }
})

test('an error with no code is LAMBKIN_INTERNAL with its message; a LambkinError keeps its code', () => {
  const a = capture()
  printError(a.io, new TypeError('x.y is not a function'), false)
  assert.match(a.out.join(''), /^LAMBKIN_INTERNAL: x\.y is not a function/)
  const b = capture()
  printError(b.io, 'a thrown string', false)
  assert.match(b.out.join(''), /LAMBKIN_INTERNAL: a thrown string/)
  const c = capture()
  assert.is(printError(c.io, new LambkinError('LAMBKIN_USAGE', 'no such option'), false), 2)
  assert.match(c.out.join(''), /LAMBKIN_USAGE: no such option/)
})

test.run()

// FastCall reads a one-byte result string in place in QuickJS's memory (fast-call.ts,
// STRING_CHARS): what it reads must be what quickjs-emscripten's public API reads, for every
// kind of string and for the results that are not strings at all.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { compileQuickJS, instantiate } from '../../../src/sandbox/wasm-factory.js'
import { FastCall } from '../../../src/sandbox/fast-call.js'
import { MIN_MEMORY_PAGES } from '../../../src/sandbox/budget.js'

test('a result string reads the same in place as through the public API: ASCII, Latin-1, 16-bit, a NUL, long, empty, after the memory grew', async () => {
  const wasm = await instantiate(compileQuickJS(), MIN_MEMORY_PAGES * 2)
  const rt = wasm.module.newRuntime()
  const ctx = rt.newContext()
  const fast = FastCall.of(ctx, wasm.memory)
  assert.ok(fast !== undefined, 'the fast path is available on the bundled QuickJS build')
  assert.ok(fast.readsInPlace, 'the bundled build\'s strings are read in place')
  const cases = ['', 'a', '{"ok":true,"r":1}', 'h\u00e9llo \u00ff\u0080', 'x\u0000y', '\u20ac uses 16-bit characters', '\ud83d\ude00', 'z'.repeat(5000), `${'\u00e9'.repeat(300)}!`]
  const echo = ctx.unwrapResult(ctx.evalCode('(s, grow) => { if (grow) globalThis.big = "w".repeat(4 << 20); return s }'))
  const read = (s: string, grow: boolean): string => {
    const r = (fast as FastCall).callForString(echo, [s, grow ? 1 : undefined])
    assert.type(r, 'string', JSON.stringify(s))
    return r as string
  }
  for (const s of cases) {
    const arg = ctx.newString(s)
    const h = ctx.unwrapResult(ctx.callFunction(echo, ctx.undefined, arg))
    const viaApi = ctx.getString(h)
    h.dispose()
    arg.dispose()
    assert.is(read(s, false), viaApi, JSON.stringify(s))
  }
  const before = wasm.memory.buffer.byteLength
  assert.is(read('after growth \u00e9', true), 'after growth \u00e9')
  assert.ok(wasm.memory.buffer.byteLength > before, 'the memory grew during the call')
  assert.is(read('and again', false), 'and again')
  echo.dispose()
  ctx.dispose()
  rt.dispose()
})

test('results that are not strings still come back as handles: a number, a thrown error, a promise', async () => {
  const wasm = await instantiate(compileQuickJS(), MIN_MEMORY_PAGES)
  const rt = wasm.module.newRuntime()
  const ctx = rt.newContext()
  const fast = FastCall.of(ctx, wasm.memory) as FastCall
  const fn = ctx.unwrapResult(ctx.evalCode('(kind) => { if (kind === "n") return 42; if (kind === "t") throw new RangeError("no"); return Promise.resolve("later") }'))
  const n = fast.callForString(fn, ['n'])
  // Not a string and not a promise: read as a string (QTS_GetString), as before.
  assert.is(n, '42')
  const t = fast.callForString(fn, ['t'])
  assert.ok(typeof t === 'object' && t !== null && 'error' in t && t.error !== undefined)
  if (typeof t === 'object' && t?.error !== undefined) {
    const name = ctx.getProp(t.error, 'name')
    assert.is(ctx.getString(name), 'RangeError')
    name.dispose()
    t.error.dispose()
  }
  const p = fast.callForString(fn, ['p'])
  assert.ok(typeof p === 'object' && p !== null && 'value' in p && p.value !== undefined)
  if (typeof p === 'object' && p?.value !== undefined) {
    assert.is(ctx.getPromiseState(p.value).type, 'fulfilled')
    p.value.dispose()
  }
  fn.dispose()
  ctx.dispose()
  rt.dispose()
})

test.run()

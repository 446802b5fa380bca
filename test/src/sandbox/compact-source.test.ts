// The prelude as a sandbox evaluates it (src/sandbox/instance.ts compactSource): indentation and
// comment lines dropped, lines kept, and nothing touched where a line break may be in a literal.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { compactSource, prepare } from '../../../src/sandbox/instance.js'
import { PRELUDE_SOURCE } from '../../../src/sandbox/prelude.js'
import { compileQuickJS, instantiate } from '../../../src/sandbox/wasm-factory.js'
import type { WasmInstance } from '../../../src/sandbox/wasm-factory.js'

test('indentation and whole-line comments go, every line stays', () => {
  const src = 'function f () {\n  // a comment\n  const s = "a // b"\n    return s // trailing\n}\n'
  assert.is(compactSource(src), 'function f () {\n\nconst s = "a // b"\nreturn s // trailing\n}\n')
})

test('left as is where a line break may sit inside a literal', () => {
  for (const src of ['const t = `a\n  // b`\n', '/* a\n  // b */\n', 'const s = "a\\\n  // b"\n']) assert.is(compactSource(src), src)
})

test('the prelude compacted: same lines, fewer characters', () => {
  const out = compactSource(PRELUDE_SOURCE)
  assert.is(out.split('\n').length, PRELUDE_SOURCE.split('\n').length)
  assert.ok(out.length < PRELUDE_SOURCE.length * 0.8, `${out.length} of ${PRELUDE_SOURCE.length} characters`)
})

/** 4 KiB pages of the instance's memory that hold anything but zeros: what it made resident. */
function touchedPages (w: WasmInstance): number {
  const words = new Uint32Array(w.memory.buffer)
  let pages = 0
  for (let p = 0; p < words.length; p += 1024) {
    for (let i = p; i < p + 1024; i++) if (words[i] !== 0) { pages++; break }
  }
  return pages
}

test('a prepared instance touches fewer pages of its memory than one given the prelude as written', async () => {
  const binary = compileQuickJS()
  const compact = await instantiate(binary, 256)
  const prepared = prepare(compact)
  const raw = await instantiate(binary, 256)
  prepare(raw, false)
  // Measured: 58 pages against 59 (61 against 63 with the glue's two modules given in the
  // order they run, 68 against 71 when it was one function expression).
  assert.ok(touchedPages(compact) < touchedPages(raw), `${touchedPages(compact)} pages against ${touchedPages(raw)}`)
  assert.is(prepared.ctx.typeof(prepared.run), 'function')
})

test('a prepared instance touches at most 58 pages of its memory: the glue in five modules, the main one parsed first', async () => {
  // 61 with the glue's two modules given in the order they run: QuickJS parses a module whole
  // before it emits its bytecode, and the scratch of the longest parse set the high-water mark.
  // The default build only (LAMBKIN_QUICKJS_VARIANT unset); the count is the same every time.
  const w = await instantiate(compileQuickJS(), 256)
  const p = prepare(w)
  assert.is(p.ctx.typeof(p.run), 'function')
  assert.ok(touchedPages(w) <= 58, `${touchedPages(w)} pages`)
})

test.run()

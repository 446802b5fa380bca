// [DESIGN 3] V8 reserves ~10 GiB of address space per wasm memory; a Pi's 39-bit kernel gives
// a process 512 GiB. `ulimit -v 512G` recreates that here: with --disable-wasm-trap-handler
// 60 functions load, and without it the failure is a clear message, not a crash.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('./fixtures/load-many.js', import.meta.url))
const LIMIT_KIB = 512 * 1024 * 1024

function run (flags: string): { loaded: number, error: string } {
  const out = execFileSync('bash', ['-c', `ulimit -v ${LIMIT_KIB} && exec "${process.execPath}" ${flags} "${SCRIPT}" 60`], { encoding: 'utf8', timeout: 120_000 })
  return JSON.parse(out.trim().split('\n').pop() as string) as { loaded: number, error: string }
}

test('60 functions fit in a 512 GiB address space with the trap handler off', () => {
  const r = run('--disable-wasm-trap-handler')
  assert.is(r.error, '')
  assert.is(r.loaded, 60)
})

test('without the flag the limit is hit and named (this is why ARM boards run with it)', () => {
  const r = run('')
  if (r.loaded === 60) return // a V8 that does not reserve guard regions: nothing to guard
  assert.match(r.error, 'out of address space')
  assert.match(r.error, '--disable-wasm-trap-handler')
})

test.run()

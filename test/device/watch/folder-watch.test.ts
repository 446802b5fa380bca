// The functions folder's watch (device/watch/folder-watch.ts) outlives folders removed under
// it: Node 20's recursive watch on Linux can fail with ENOENT when a subfolder goes while its
// watch is being added or dropped, which once stopped the watching for the agent's whole run.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { systemClock } from '../../../src/clock.js'
import { watchFolder } from '../../../device/watch/folder-watch.js'

test('folders made and removed under the watched one, many times: edits after them are still seen', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-watch-'))
  const lines: string[] = []
  let settled = 0
  const w = watchFolder({ dir, debounceMs: 20, clock: systemClock, onSettled: async () => { settled++ }, log: (l) => lines.push(l) })
  try {
    // Made, then removed a varying while later: some removals land while the watch of the new
    // folder is being added.
    for (let i = 0; i < 200; i++) {
      const sub = path.join(dir, `fn-${i}`, 'lib', 'deep')
      mkdirSync(sub, { recursive: true })
      writeFileSync(path.join(sub, 'index.js'), 'export default () => 1\n')
      for (let k = 0; k < i % 4; k++) await new Promise((resolve) => setImmediate(resolve))
      rmSync(path.join(dir, `fn-${i}`), { recursive: true, force: true })
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
    const before = settled
    writeFileSync(path.join(dir, 'after.txt'), 'x')
    for (let t = 0; t < 100 && settled === before; t++) await new Promise((resolve) => setTimeout(resolve, 50))
    assert.ok(settled > before, `an edit after the removals is seen (${lines.join('; ')})`)
    assert.equal(lines.filter((l) => l.startsWith('stopped watching')), [])
  } finally {
    w.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the watched folder itself removed: the watch ends with one line, and nothing throws', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-watch-'))
  const lines: string[] = []
  const w = watchFolder({ dir, debounceMs: 20, clock: systemClock, onSettled: async () => {}, log: (l) => lines.push(l) })
  rmSync(dir, { recursive: true, force: true })
  for (let t = 0; t < 40 && lines.length === 0; t++) await new Promise((resolve) => setTimeout(resolve, 50))
  w.close()
  assert.ok(lines.length <= 1, lines.join('; '))
})

test('a file replaced by a rename (an editor\'s safe save, sed -i), again and again: each replacement is seen', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-watch-'))
  const sub = path.join(dir, 'fn')
  mkdirSync(sub)
  const file = path.join(sub, 'index.js')
  writeFileSync(file, 'export default () => 0\n')
  let settled = 0
  const lines: string[] = []
  const w = watchFolder({ dir, debounceMs: 20, clock: systemClock, onSettled: async () => { settled++ }, log: (l) => lines.push(l) })
  try {
    await new Promise((resolve) => setTimeout(resolve, 100))
    for (let i = 1; i <= 3; i++) {
      const before = settled
      const tmp = path.join(sub, `.index.js.${i}.tmp`)
      writeFileSync(tmp, `export default () => ${i}\n`)
      renameSync(tmp, file)
      for (let t = 0; t < 40 && settled === before; t++) await new Promise((resolve) => setTimeout(resolve, 50))
      assert.ok(settled > before, `replacement ${i} is seen (${lines.join('; ')})`)
      // In place, after the replacements: still seen.
      const mid = settled
      await new Promise((resolve) => setTimeout(resolve, 60))
      writeFileSync(file, `export default () => ${i * 10}\n`)
      for (let t = 0; t < 40 && settled === mid; t++) await new Promise((resolve) => setTimeout(resolve, 50))
      assert.ok(settled > mid, `the write in place after replacement ${i} is seen`)
    }
  } finally {
    w.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()

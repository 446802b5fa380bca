// The one bounded read loop (src/bounded-read.ts) through both its readers, on real files: a
// /proc file that says its size is 0, a regular file at and past the bound, a file that grows
// between stat and read.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { readBounded, readBoundedSync } from '../../src/bounded-read.js'

const big = (): Error => new Error('too large')

/** Both readers on `file`: their result, or the message they threw. */
async function both (file: string, max: number, size?: number): Promise<[string, string]> {
  const fd = openSync(file, 'r')
  let a: string
  try { a = readBoundedSync(fd, size ?? fstatSync(fd).size, max, big).toString('latin1') } catch (err) { a = (err as Error).message } finally { closeSync(fd) }
  const fh = await open(file, 'r')
  let b: string
  try { b = (await readBounded(fh, size ?? (await fh.stat()).size, max, big)).toString('latin1') } catch (err) { b = (err as Error).message } finally { await fh.close() }
  return [a, b]
}

test('a /proc file that reports size 0 is read whole, and refused past the bound, by both readers alike', async () => {
  const [a, b] = await both('/proc/self/status', 1 << 20)
  assert.match(a, /^Name:/)
  assert.match(b, /^Name:/)
  assert.equal(await both('/proc/self/status', 100), ['too large', 'too large'])
})

test('a regular file at the bound is read; one byte more is refused from stat; a file grown since stat is refused on its reads', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-bounded-'))
  try {
    const file = path.join(dir, 'f')
    writeFileSync(file, 'x'.repeat(10_000))
    assert.equal(await both(file, 10_000), ['x'.repeat(10_000), 'x'.repeat(10_000)])
    assert.equal(await both(file, 9_999), ['too large', 'too large'])
    // stat said 100 bytes (written since): the reads find 10,000.
    assert.equal(await both(file, 5_000, 100), ['too large', 'too large'])
    writeFileSync(file, '')
    assert.equal(await both(file, 10), ['', ''])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()

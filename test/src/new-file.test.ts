// writeNewFile: whole or absent, never replacing, and the temporary file a power cut left
// behind (it may hold a key or the operator token) removed by the next write.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { replaceFile, writeNewFile } from '../../src/new-file.js'

function inDir (fn: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-new-file-'))
  try { fn(dir) } finally { rmSync(dir, { recursive: true, force: true }) }
}

test('writes the bytes and never replaces an existing file (EEXIST), leaving no temporary file', () => {
  inDir((dir) => {
    const file = path.join(dir, 'token')
    writeNewFile(file, 'secret\n', 0o600)
    assert.is(readFileSync(file, 'utf8'), 'secret\n')
    assert.throws(() => { writeNewFile(file, 'other\n', 0o600) }, (e: NodeJS.ErrnoException) => e.code === 'EEXIST')
    assert.is(readFileSync(file, 'utf8'), 'secret\n')
    assert.equal(readdirSync(dir), ['token'])
  })
})

test('a temporary file left by a process that is gone is removed; one of a running process stays', () => {
  inDir((dir) => {
    // The pid of a process that has ended: the writer cut off mid-write.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid as number
    const living = process.ppid
    writeFileSync(path.join(dir, `.token.${gone}.tmp`), 'half a sec')
    writeFileSync(path.join(dir, `.token.${living}.tmp`), 'in progress')
    writeFileSync(path.join(dir, '.other.1.tmp'), 'not ours')
    writeNewFile(path.join(dir, 'token'), 'secret\n', 0o600)
    assert.equal(readdirSync(dir).sort(), ['.other.1.tmp', `.token.${living}.tmp`, 'token'])
  })
})

test('replaceFile swaps the whole file in one step; a failed swap leaves the old one and no temporary file', () => {
  inDir((dir) => {
    const file = path.join(dir, 'lambkin.conf')
    replaceFile(file, 'listener 1883\n', 0o644)
    replaceFile(file, 'listener 8883\n', 0o644)
    assert.is(readFileSync(file, 'utf8'), 'listener 8883\n')
    assert.equal(readdirSync(dir), ['lambkin.conf'])
    // A folder where the file should go: rename(2) refuses (EISDIR), and the folder stays as it was.
    const taken = path.join(dir, 'taken')
    mkdirSync(taken)
    writeFileSync(path.join(taken, 'inside'), 'kept')
    assert.throws(() => { replaceFile(taken, 'new\n', 0o644) }, (e: NodeJS.ErrnoException) => e.code === 'EISDIR')
    assert.equal(readdirSync(taken), ['inside'])
    assert.equal(readdirSync(dir).sort(), ['lambkin.conf', 'taken'])
  })
})

test.run()

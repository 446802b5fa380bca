// Owner-only data folders and secret files (src/private-files.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { makePrivate, privateLines, secretFileWarning } from '../../src/private-files.js'

const mode = (p: string): number => lstatSync(p).mode & 0o777

test('makePrivate removes group and other bits below a folder, keeps the owner\'s, and leaves links and their targets alone', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-private-'))
  try {
    const dir = path.join(root, 'data')
    mkdirSync(path.join(dir, 'sub'), { recursive: true })
    writeFileSync(path.join(dir, 'sub', 'a'), 'a')
    writeFileSync(path.join(dir, 'b'), 'b')
    writeFileSync(path.join(root, 'outside'), 'o')
    chmodSync(path.join(root, 'outside'), 0o644)
    symlinkSync(path.join(root, 'outside'), path.join(dir, 'link'))
    chmodSync(dir, 0o755)
    chmodSync(path.join(dir, 'sub'), 0o775)
    chmodSync(path.join(dir, 'sub', 'a'), 0o664)
    chmodSync(path.join(dir, 'b'), 0o600)
    const t = makePrivate(dir)
    assert.equal(t.changed.sort(), [dir, path.join(dir, 'sub'), path.join(dir, 'sub', 'a')].sort())
    assert.equal(t.refused, [])
    assert.is(mode(dir), 0o700)
    assert.is(mode(path.join(dir, 'sub')), 0o700)
    assert.is(mode(path.join(dir, 'sub', 'a')), 0o600)
    assert.is(mode(path.join(root, 'outside')), 0o644)
    assert.match(privateLines(dir, t)[0], /3 folders and files could be read by other users; made owner-only/)
    assert.equal(privateLines(dir, makePrivate(dir)), [])
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('secretFileWarning names a key others can read, with its mode and the fix; none for 0600 or a missing file', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-secret-'))
  try {
    const f = path.join(root, 'k')
    writeFileSync(f, 'k')
    chmodSync(f, 0o600)
    assert.is(secretFileWarning(f, 'the signing key'), undefined)
    chmodSync(f, 0o640)
    assert.match(String(secretFileWarning(f, 'the signing key')), /^WARNING: the signing key .* \(mode 0640\): anyone who can read it can sign bundles your devices run; chmod 600 /)
    assert.is(secretFileWarning(path.join(root, 'none'), 'the signing key'), undefined)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

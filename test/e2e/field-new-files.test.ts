// Files lambkin makes once and refuses to overwrite (the signing key of `lambkin keys generate`,
// the cloud's operator token and desired-state key), made on a full disk: the command fails with
// a code naming ENOSPC and leaves nothing behind, so once there is room the same command works.
// It used to leave an empty file, which the next try refused ("already exists", "holds no usable
// token", "is not a PEM private key") until someone found it and deleted it (src/new-file.ts).
// Real `lambkin` processes on a real tmpfs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { mountTmpfs } from '../helpers/tmpfs.js'
import type { Tmpfs } from '../helpers/tmpfs.js'
import { runLambkin, startLambkin } from './fixtures/lambkin-process.js'

/** Runs `fn` on a full 1 MiB tmpfs, or prints why it cannot and passes. */
async function onFullDisk (fn: (disk: Tmpfs) => Promise<void>): Promise<void> {
  const disk = mountTmpfs(1024 * 1024)
  if ('skip' in disk) { console.log(`skipped: ${disk.skip}`); return }
  try {
    await fn(disk)
  } finally {
    disk.unmount()
  }
}

/** Names in `dir` but the tmpfs filler. */
const left = (dir: string): string[] => existsSync(dir) ? readdirSync(dir).filter((n) => n !== 'filler') : []

test('lambkin keys generate on a full disk: LAMBKIN_KEY_INVALID (ENOSPC), no key left; with room again it makes the pair', async () => {
  await onFullDisk(async (disk) => {
    const out = path.join(disk.dir, 'keys')
    mkdirSync(out)
    disk.fill()
    const full = await runLambkin(['keys', 'generate', '--out', out])
    assert.is(full.code, 1, full.stderr)
    assert.match(full.stderr, /LAMBKIN_KEY_INVALID: .* could not be written \(ENOSPC\)/)
    assert.equal(left(out), [], 'no key file, empty or partial, and no temporary file')
    disk.free()
    const again = await runLambkin(['keys', 'generate', '--out', out])
    assert.is(again.code, 0, again.stderr)
    assert.match(readFileSync(path.join(out, 'lambkin.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/)
    assert.match(readFileSync(path.join(out, 'lambkin.pub'), 'utf8'), /-----BEGIN PUBLIC KEY-----\n/)
    assert.equal(left(out).sort(), ['lambkin.key', 'lambkin.pub'])
  })
})

test('lambkin cloud on a full disk: the operator token is not made (LAMBKIN_CONFIG_INVALID, ENOSPC), not left empty; with room again the cloud starts', async () => {
  await onFullDisk(async (disk) => {
    const data = path.join(disk.dir, 'cloud')
    mkdirSync(data, { mode: 0o700 })
    disk.fill()
    const full = await runLambkin(['cloud', '--data', data, '--port', '0', '--api-port', '0'])
    assert.is(full.code, 1, full.stderr)
    assert.match(full.stderr, /LAMBKIN_CONFIG_INVALID: \S+operator-token could not be written \(ENOSPC\)/)
    assert.not.match(full.stderr, /LAMBKIN_SANDBOX_CRASHED/)
    assert.equal(left(data), [], 'no operator-token, empty or partial')
    disk.free()
    const cloud = startLambkin(['cloud', '--data', data, '--port', '0', '--api-port', '0'])
    try {
      const ready = await cloud.waitFor('stdout', /lambkin cloud ready: broker \S+; api \S+; operator token in (\S+)/)
      assert.ok(readFileSync(ready[1], 'utf8').trim().length >= 16)
    } finally {
      assert.is((await cloud.stop('SIGTERM')).code, 0, cloud.stderr())
    }
  })
})

test('lambkin cloud on a full disk with its token made: the desired-state key is not left empty (LAMBKIN_KEY_INVALID, ENOSPC); with room again the cloud starts', async () => {
  await onFullDisk(async (disk) => {
    const data = path.join(disk.dir, 'cloud')
    mkdirSync(data, { mode: 0o700 })
    writeFileSync(path.join(data, 'operator-token'), 'a-token-of-twenty-chars\n', { mode: 0o600 })
    disk.fill()
    const full = await runLambkin(['cloud', '--data', data, '--port', '0', '--api-port', '0'])
    assert.is(full.code, 1, full.stderr)
    assert.match(full.stderr, /LAMBKIN_KEY_INVALID: \S+cloud-signing\.key could not be written \(ENOSPC\)/)
    assert.equal(left(data), ['operator-token'], 'no cloud-signing.key, empty or partial')
    disk.free()
    const cloud = startLambkin(['cloud', '--data', data, '--port', '0', '--api-port', '0'])
    try {
      await cloud.waitFor('stdout', /lambkin cloud ready/)
      assert.match(readFileSync(path.join(data, 'cloud-signing.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/)
    } finally {
      assert.is((await cloud.stop('SIGTERM')).code, 0, cloud.stderr())
    }
  })
})

test.run()

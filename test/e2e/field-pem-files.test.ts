// A PEM or key file named on the command line is a path the operator typed: /dev/zero or
// /dev/urandom by a slip, a FIFO, a log file. `lambkin cloud` read --tls-cert, --tls-key,
// --api-tls-cert, --api-tls-key, --trust and --signing-key whole, without bound: with /dev/zero
// it sat in one synchronous read, growing, deaf to SIGTERM (its handler never ran) until killed.
// Each must be read at most MAX_PEM_BYTES and refused at once, naming the flag and the file.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, openSync, closeSync, ftruncateSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { MAX_PEM_BYTES } from '../../src/small-file.js'
import { runLambkin } from './fixtures/lambkin-process.js'

test('cloud: a TLS or key file that is a device or over the bound stops the start at once, naming the flag', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-pem-files-'))
  try {
    // A sparse file: its size on disk stays 0.
    const big = path.join(dir, 'big.pem')
    const fd = openSync(big, 'w')
    ftruncateSync(fd, MAX_PEM_BYTES * 2)
    closeSync(fd)
    const base = ['cloud', '--data', path.join(dir, 'data'), '--port', '0', '--api-port', '0']
    const cases: Array<[string[], RegExp]> = [
      [['--tls-port', '0', '--tls-cert', '/dev/zero', '--tls-key', '/dev/zero'], /^LAMBKIN_CONFIG_INVALID: --tls-cert \/dev\/zero cannot be read \(not a regular file\)/m],
      [['--tls-port', '0', '--tls-cert', big, '--tls-key', big], new RegExp(`^LAMBKIN_CONFIG_INVALID: --tls-cert \\S+big\\.pem cannot be read \\(larger than the ${MAX_PEM_BYTES} bytes`, 'm')],
      [['--api-tls-cert', '/dev/zero', '--api-tls-key', '/dev/zero'], /^LAMBKIN_CONFIG_INVALID: --api-tls-cert \/dev\/zero cannot be read \(not a regular file\)/m],
      [['--trust', '/dev/zero'], /^LAMBKIN_KEY_INVALID: \/dev\/zero cannot be read as a public key \(not a regular file\)/m],
      [['--signing-key', '/dev/urandom'], /^LAMBKIN_KEY_INVALID: \/dev\/urandom cannot be read as a private key \(not a regular file\)/m]
    ]
    for (const [args, want] of cases) {
      const r = await runLambkin([...base, ...args], { timeoutMs: 20_000 })
      assert.is(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`)
      assert.match(r.stderr, want, args.join(' '))
      assert.not.match(r.stdout, 'ready')
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('deploy --key /dev/zero is refused at once as LAMBKIN_KEY_INVALID naming the file', async () => {
  const r = await runLambkin(['deploy', 'examples/hello', '--to', 'pi-1', '--key', '/dev/zero', '--api', '127.0.0.1:1', '--token', 't'], { timeoutMs: 20_000 })
  assert.is(r.code, 1, r.stderr)
  assert.match(r.stderr, /^LAMBKIN_KEY_INVALID: \/dev\/zero cannot be read as a private key \(not a regular file\)/m)
})

test.run()

// `--event @file` / `--state @file` name a file the operator picked: a log by mistake, a device
// (`@/dev/zero`, `@/dev/stdin` from an endless pipe). The CLI read it whole, without bound:
// `--event @/dev/zero` grew past 7 GB in 15 s, which on a board is the OOM killer. It must read
// at most JSON_ARG_MAX_BYTES and refuse the rest as bad usage, for a file and for a pipe.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, openSync, closeSync, ftruncateSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { JSON_ARG_MAX_BYTES } from '../../cli/json-arg.js'
import { runLambkin } from './fixtures/lambkin-process.js'

test('an --event or --state file over the bound is refused as bad usage, read no further, from a file or a pipe', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-event-file-'))
  try {
    // A sparse file: its size on disk stays 0.
    const big = path.join(dir, 'big.json')
    const fd = openSync(big, 'w')
    ftruncateSync(fd, JSON_ARG_MAX_BYTES * 4)
    closeSync(fd)
    for (const args of [['invoke', 'examples/hello', '--event', `@${big}`], ['invoke', 'examples/hello', '--state', `@${big}`], ['invoke', '--device', 'pi-1', 'hello', '--event', `@${big}`, '--api', '127.0.0.1:1', '--token', 't']]) {
      const r = await runLambkin(args, { timeoutMs: 30_000 })
      assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, new RegExp(`^LAMBKIN_USAGE: cannot read --(event|state) file .*larger than the ${JSON_ARG_MAX_BYTES} bytes allowed`, 'm'))
    }
    // A pipe with no size: the writer offers twice the bound and is cut off.
    const fifo = path.join(dir, 'fifo')
    assert.is(spawnSync('mkfifo', [fifo]).status, 0)
    const writer = spawn('sh', ['-c', `head -c ${JSON_ARG_MAX_BYTES * 2} /dev/zero > ${fifo}`], { stdio: 'ignore' })
    const r = await runLambkin(['invoke', 'examples/hello', '--event', `@${fifo}`], { timeoutMs: 30_000 })
    writer.kill()
    assert.is(r.code, 2, r.stderr)
    assert.match(r.stderr, /larger than the \d+ bytes allowed/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an --event file saved by Notepad (a byte-order mark, CRLF) is read; a UTF-16 one is refused saying so', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-event-bom-'))
  try {
    const bom = path.join(dir, 'bom.json')
    writeFileSync(bom, '\uFEFF{"name":\r\n"notepad"}\r\n')
    const ok = await runLambkin(['invoke', 'examples/hello', '--event', `@${bom}`, '--json'], { timeoutMs: 30_000 })
    assert.is(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /hello, notepad/)
    const u16 = path.join(dir, 'u16.json')
    writeFileSync(u16, Buffer.from('\uFEFF{"name":"x"}', 'utf16le'))
    const bad = await runLambkin(['invoke', 'examples/hello', '--event', `@${u16}`], { timeoutMs: 30_000 })
    assert.is(bad.code, 2, bad.stderr)
    assert.match(bad.stderr, /^LAMBKIN_USAGE: --event file \S+u16\.json is not UTF-8 text .*save it as UTF-8/m)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()

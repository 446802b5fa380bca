// `lambkin device` with LAMBKIN_MEMORY=small (the default on ARM): the process running the agent
// is a Node carrying the small-RAM V8 flags and MALLOC_ARENA_MAX, read from /proc: the process
// itself where Node can exec in place, else a re-run child (cli/bin.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { BIN, ROOT, writeFunctions } from './fixtures/lambkin-process.js'
import { SMALL_RAM_FLAGS } from '../../cli/node-runtime.js'

test('LAMBKIN_MEMORY=small: the agent runs in a Node started with the small-RAM flags and MALLOC_ARENA_MAX=2, in place where Node has execve', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-runtime-'))
  const functions = writeFunctions(path.join(root, 'functions'), { hello: { code: 'export default () => 1' } })
  const env: Record<string, string | undefined> = { ...process.env, LAMBKIN_MEMORY: 'small', LAMBKIN_WASM_TRAP_HANDLER: 'off' }
  delete env.MALLOC_ARENA_MAX
  const child = spawn(process.execPath, [BIN, 'device', '--id', 'e2e-runtime', '--data', path.join(root, 'data'), '--functions', functions], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { out += s })
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  try {
    const deadline = Date.now() + 30_000
    while (!out.includes('e2e-runtime ready') && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50))
    assert.match(out, 'e2e-runtime ready')
    const pid = child.pid as number
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((k) => k !== '')
    // Where Node has process.execve the process replaces itself (cli/bin.ts); else one child.
    const inPlace = typeof (process as { execve?: unknown }).execve === 'function'
    assert.is(kids.length, inPlace ? 0 : 1, inPlace ? 'no second process' : 'one re-run process')
    const agent = inPlace ? pid : Number(kids[0])
    const argv = readFileSync(`/proc/${agent}/cmdline`, 'utf8').split('\0')
    for (const f of [...SMALL_RAM_FLAGS, '--disable-wasm-trap-handler']) assert.ok(argv.includes(f), `${f} in ${argv.join(' ')}`)
    assert.ok(readFileSync(`/proc/${agent}/environ`, 'utf8').split('\0').includes('MALLOC_ARENA_MAX=2'))
  } finally {
    child.kill('SIGTERM')
    assert.is(await exited, 0, out)
    rmSync(root, { recursive: true, force: true })
  }
})

test('LAMBKIN_MEMORY with an unknown value is refused before anything starts (exit 2)', async () => {
  const child = spawn(process.execPath, [BIN, 'invoke', 'examples/hello'], { cwd: ROOT, env: { ...process.env, LAMBKIN_MEMORY: 'tiny' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  assert.is(code, 2)
  assert.match(err, /^LAMBKIN_CONFIG_INVALID: LAMBKIN_MEMORY must be "small"/)
})

test.run()

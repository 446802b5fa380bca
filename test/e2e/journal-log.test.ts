// `lambkin device` writing to the systemd journal: with stderr the stream JOURNAL_STREAM names
// (systemd.exec(5)), every line carries an sd-daemon priority (`<6>` for an invocation that
// went well, `<3>` for one that failed); elsewhere the same lines are plain. Never colour.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { BIN, ROOT, writeFunctions } from './fixtures/lambkin-process.js'

/** Runs the agent with stderr in a file, until a good and a failed invocation were logged; returns stderr. */
async function run (journal: 'this stream' | 'another stream' | 'none'): Promise<string> {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-journal-'))
  const functions = writeFunctions(path.join(root, 'functions'), {
    good: { manifest: { triggers: [{ schedule: '* * * * * *' }] }, code: 'export default () => 1' },
    bad: { manifest: { triggers: [{ schedule: '* * * * * *' }] }, code: 'export default () => { throw new Error("line one\\nline two") }' }
  })
  const file = path.join(root, 'stderr')
  const fd = openSync(file, 'w')
  const other = openSync(path.join(root, 'other'), 'w')
  const st = fstatSync(journal === 'another stream' ? other : fd, { bigint: true })
  const env: Record<string, string | undefined> = { ...process.env, JOURNAL_STREAM: journal === 'none' ? undefined : `${st.dev}:${st.ino}` }
  const child = spawn(process.execPath, ['--disable-wasm-trap-handler', BIN, 'device', '--id', 'e2e-journal', '--data', path.join(root, 'data'), '--functions', functions], { cwd: ROOT, env, stdio: ['ignore', 'pipe', fd] })
  let stdout = ''
  child.stdout?.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  try {
    const end = Date.now() + 30_000
    // Both schedules fire each second in either order: wait for a line of each.
    const logged = (s: string): boolean => /\[bad\] LAMBKIN_FUNCTION_ERROR/.test(s) && /\[good\] ok /.test(s)
    while (!logged(readFileSync(file, 'utf8')) && Date.now() < end && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 100))
    assert.match(stdout, /^lambkin device e2e-journal ready: /, 'the ready line on stdout has no prefix when stdout is not the journal')
    child.kill('SIGTERM')
    assert.is(await exited, 0)
    return readFileSync(file, 'utf8')
  } finally {
    child.kill('SIGKILL')
    closeSync(fd)
    closeSync(other)
    rmSync(root, { recursive: true, force: true })
  }
}

test('stderr in the journal: every line has a priority prefix; ok invocations at info, failures at err, the stop at notice', async () => {
  const err = await run('this stream')
  const lines = err.split('\n').filter((l) => l !== '')
  assert.ok(lines.length >= 4, err)
  for (const l of lines) assert.match(l, /^<[3-7]>/, `no priority on ${JSON.stringify(l)}`)
  assert.match(err, /^<6>\[good\] ok /m)
  assert.match(err, /^<3>\[bad\] LAMBKIN_FUNCTION_ERROR: /m)
  assert.match(err, /^<5>SIGTERM: stopping/m)
  assert.match(err, /^<5>lambkin device e2e-journal stopped$/m)
  assert.not.match(err, '\x1b', 'no escape sequences (colour)')
})

test('stderr elsewhere, with JOURNAL_STREAM inherited from a service or not set at all: plain lines', async () => {
  for (const journal of ['another stream', 'none'] as const) {
    const err = await run(journal)
    assert.match(err, /^\[good\] ok /m, journal)
    assert.match(err, /^\[bad\] LAMBKIN_FUNCTION_ERROR: /m, journal)
    assert.not.match(err, /^<\d>/m, `${journal}: a priority prefix outside the journal`)
    assert.not.match(err, '\x1b', 'no escape sequences (colour)')
  }
})

test.run()

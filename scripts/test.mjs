#!/usr/bin/env node
// The test runner behind `npm test`: every compiled test file under dist/test runs in its own
// process (uvu runs the file's suites when it is started directly), one after another, with a
// deadline per file. One file that hangs (a server that never answers, a loop waiting for a
// record that never comes) then costs its deadline and a FAIL line, not the rest of the run, and
// a file that leaves handles open after its summary is stopped and named instead of keeping the
// run alive.
//
//   node scripts/test.mjs [pattern]   pattern: a regex on the file's path under dist/test
//
// Environment: LAMBKIN_TEST_FILE_TIMEOUT_S (default 600) is each file's deadline in seconds.
// The last lines are uvu's summary summed over every file ("  Total:", "  Passed:",
// "  Skipped:", "  Duration:"), which .ci/run reads. Exits 1 when any test failed or any file
// did not finish; the failed tests and files are listed again just before that summary.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'

const root = path.resolve('dist/test')
const pattern = new RegExp(process.argv[2] ?? '\\.test\\.js$')
const deadlineS = Number(process.env.LAMBKIN_TEST_FILE_TIMEOUT_S ?? 600)
/** After a file printed its summary, how long its process may take to exit before it is named and stopped. */
const EXIT_GRACE_MS = 15_000

/** Test files under `dir`, in the order uvu's own CLI walks them (sorted names, depth first). */
function files (dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) out.push(...files(full))
    else if (name.endsWith('.test.js') && pattern.test(path.relative(root, full))) out.push(full)
  }
  return out
}

const plain = (s) => s.replace(/\x1b\[[0-9;]*m/g, '')

/**
 * Runs one file in its own process group; resolves with its summary counts, or with
 * `problem` set when it failed to finish (deadline) or to exit after its summary.
 */
function runFile (file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '1' } })
    let text = ''
    let grace
    let problem
    let lingered = false
    const kill = () => { try { process.kill(-child.pid, 'SIGKILL') } catch {} }
    const deadline = setTimeout(() => { problem = `did not finish within ${deadlineS} s; stopped`; kill() }, deadlineS * 1000)
    const take = (chunk, to) => {
      to.write(chunk)
      text += chunk
      if (grace === undefined && /Duration:/.test(plain(text))) {
        grace = setTimeout(() => { lingered = true; kill() }, EXIT_GRACE_MS)
      }
    }
    child.stdout.on('data', (c) => take(c.toString(), process.stdout))
    child.stderr.on('data', (c) => take(c.toString(), process.stderr))
    child.on('close', (code, signal) => {
      clearTimeout(deadline)
      clearTimeout(grace)
      // Whatever the file's children still hold (a broker it started) goes with it.
      kill()
      const num = (label) => Number(plain(text).match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))?.[1] ?? 0)
      const total = num('Total')
      const passed = num('Passed')
      const skipped = num('Skipped')
      if (problem === undefined && !lingered && total === 0 && (code !== 0 || signal !== null)) problem = `ended (${signal ?? `exit code ${code}`}) before its summary`
      // A file stopped after its summary keeps its counts (uvu sets the exit code only on a
      // failed test, so the counts say it all); its open handles are named at the end.
      // uvu names each failed test on a line starting "FAIL", its title in quotes.
      const failures = [...plain(text).matchAll(/^\s*FAIL\s+(.*)$/gm)].map((m) => m[1].trim())
      resolve({ total, passed, skipped, code: lingered ? (passed === total ? 0 : 1) : code, problem, lingered, failures })
    })
  })
}

// `npm start` compiles only the CLI, so after it dist/test is missing: say which build makes it.
if (!existsSync(root)) {
  console.error(`${path.relative('.', root)} does not exist: the tests are compiled by \`npm run build\` (\`npm start\` builds only the CLI); run it, then this again`)
  process.exit(1)
}
const list = files(root)
if (list.length === 0) {
  console.error(`no test file under ${path.relative('.', root)} matches ${pattern} (a regex on the path under it, such as 'cli/help'); a test added or renamed since the last build needs \`npm run build\` first`)
  process.exit(1)
}
const started = Date.now()
const sum = { total: 0, passed: 0, skipped: 0 }
const broken = []
const lingering = []
const failedTests = []
for (const [i, file] of list.entries()) {
  const rel = path.relative(root, file)
  process.stdout.write(`\n[${i + 1}/${list.length}] ${rel}\n`)
  const t0 = Date.now()
  const r = await runFile(file)
  sum.total += r.total
  sum.passed += r.passed
  sum.skipped += r.skipped
  for (const title of r.failures) failedTests.push(`${rel}: ${title}`)
  if (r.problem !== undefined) {
    broken.push(`${rel}: ${r.problem}`)
    // A file that never printed its summary counts as one failed test.
    if (r.total === 0) sum.total += 1
    console.log(`  FAIL ${rel}: ${r.problem}`)
  } else if (r.lingered) {
    lingering.push(rel)
    console.log(`  note: ${rel} printed its summary but did not exit within ${EXIT_GRACE_MS / 1000} s (a timer or socket left open); stopped`)
  } else if (r.code !== 0 && r.passed === r.total) {
    broken.push(`${rel}: exit code ${r.code} with every test passed`)
    sum.total += 1
  }
  process.stdout.write(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`)
}
if (lingering.length > 0) console.log(`\nfiles that left handles open after their tests (not failures):\n${lingering.map((b) => `  ${b}`).join('\n')}`)
// Named again at the end, beside the counts, so a log read from its tail says what failed.
if (failedTests.length > 0) console.log(`\nfailed tests:\n${failedTests.map((b) => `  ${b}`).join('\n')}`)
if (broken.length > 0) console.log(`\nfiles that failed to finish cleanly:\n${broken.map((b) => `  ${b}`).join('\n')}`)
console.log(`\n  Total:     ${sum.total}\n  Passed:    ${sum.passed}\n  Skipped:   ${sum.skipped}\n  Duration:  ${Date.now() - started}ms\n`)
process.exitCode = sum.passed === sum.total && broken.length === 0 ? 0 : 1

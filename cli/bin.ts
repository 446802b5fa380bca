#!/usr/bin/env node
// The `lambkin` executable. For commands that run sandboxes it re-runs Node with the flags
// cli/node-runtime.ts picks before any sandbox exists: on ARM boards (and when
// LAMBKIN_WASM_TRAP_HANDLER=off) --disable-wasm-trap-handler, since V8 otherwise reserves
// ~10 GiB of address space per wasm memory and a 39-bit Pi kernel runs out after a few dozen
// functions (docs/architecture.md, "Sandbox"); and on ARM (or LAMBKIN_MEMORY=small) the
// small-RAM V8 and malloc settings. Both only work at process start, hence the re-exec.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { formatLog, isJournal } from './log.js'
import { needsSandbox } from './needs-sandbox.js'
import { planRuntime, RuntimeSettingError } from './node-runtime.js'
import type { RuntimePlan } from './node-runtime.js'

const args = process.argv.slice(2)
/** Under systemd with stderr in the journal, lines carry priority prefixes (cli/log.ts). */
const journal = isJournal(2, process.env)

function plan (): RuntimePlan | undefined {
  if (!needsSandbox(args)) return undefined
  try {
    const p = planRuntime({ arch: process.arch, env: process.env, execArgv: process.execArgv })
    return p.flags.length === 0 && Object.keys(p.env).length === 0 ? undefined : p
  } catch (err) {
    if (!(err instanceof RuntimeSettingError)) throw err
    process.stderr.write(`${err.code}: ${err.message}\n`)
    process.exit(2)
  }
}

const rerun = plan()
if (rerun !== undefined) {
  const flags = rerun.flags
  const child = spawn(process.execPath, [...flags, ...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: 'inherit', env: { ...process.env, ...rerun.env } })
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig))
  child.on('error', (err) => {
    process.stderr.write(`LAMBKIN_INTERNAL: could not re-run Node with ${flags.join(' ')} (${err.message}); run \`node ${flags.join(' ')} ${fileURLToPath(import.meta.url)} ...\` yourself, or set LAMBKIN_WASM_TRAP_HANDLER=on and LAMBKIN_MEMORY=node to skip it\n`)
    process.exitCode = 1
  })
  child.on('exit', (code, signal) => {
    if (signal !== null) process.kill(process.pid, signal)
    else process.exitCode = code ?? 1
  })
} else {
  // Imported only here: the re-running parent above lives as long as the agent, and without
  // the CLI, sandbox and function modules it stays a bare Node (RSS 43 MiB instead of ~50).
  // A reader that goes away (`lambkin results ... | head`) ends the output, not in a stack trace.
  for (const s of [process.stdout, process.stderr]) s.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0) })
  import('./index.js')
    .then(({ main }) => main(args, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), isTTY: process.stdout.isTTY === true, journal }))
    .then((code) => { process.exitCode = code })
    .catch((err: unknown) => {
      process.stderr.write(formatLog(`LAMBKIN_INTERNAL: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, 'err', journal))
      process.exitCode = 1
    })
}

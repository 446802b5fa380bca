#!/usr/bin/env node
// The `lambkin` executable. On ARM boards (and when LAMBKIN_WASM_TRAP_HANDLER=off) it re-runs
// Node with --disable-wasm-trap-handler before any sandbox exists: V8 otherwise reserves
// ~10 GiB of address space per wasm memory and a 39-bit Pi kernel runs out after a few dozen
// functions (docs/architecture.md, "Sandbox"). The flag only works at process start, hence the re-exec.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { needsSandbox } from './needs-sandbox.js'

const FLAG = '--disable-wasm-trap-handler'
const args = process.argv.slice(2)

function wantsFlag (): boolean {
  const setting = process.env.LAMBKIN_WASM_TRAP_HANDLER
  if (setting === 'on') return false
  if (setting === 'off') return true
  return process.arch === 'arm64' || process.arch === 'arm'
}

// NODE_OPTIONS=--disable-wasm-trap-handler (allowed there) also does: then no second process.
const given = process.execArgv.includes(FLAG) || (process.env.NODE_OPTIONS ?? '').split(/\s+/).includes(FLAG)

if (needsSandbox(args) && wantsFlag() && !given) {
  const child = spawn(process.execPath, [FLAG, ...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: 'inherit' })
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig))
  child.on('error', (err) => {
    process.stderr.write(`LAMBKIN_INTERNAL: could not re-run Node with ${FLAG} (${err.message}); run \`node ${FLAG} ${fileURLToPath(import.meta.url)} ...\` yourself, or set LAMBKIN_WASM_TRAP_HANDLER=on to skip it\n`)
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
    .then(({ main }) => main(args, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), isTTY: process.stdout.isTTY === true }))
    .then((code) => { process.exitCode = code })
    .catch((err: unknown) => {
      process.stderr.write(`LAMBKIN_INTERNAL: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
      process.exitCode = 1
    })
}

#!/usr/bin/env node
// The `lambkin` executable. Commands that run sandboxes need Node flags that only work at
// process start (cli/node-runtime.ts picks them): on ARM boards (and when
// LAMBKIN_WASM_TRAP_HANDLER=off) --disable-wasm-trap-handler, since V8 otherwise reserves
// ~10 GiB of address space per wasm memory and a 39-bit Pi kernel runs out after a few dozen
// functions (docs/architecture.md, "Sandbox"); and on ARM (or LAMBKIN_MEMORY=small) the
// small-RAM V8 and malloc settings. Where they are missing, in order of preference:
//  1. none: the systemd unit and the arm64 image start Node with them (docs/boards.md,
//     "Running as a service"), so this process runs the command itself;
//  2. process.execve (Node 22.15+, 23.11+): this process becomes the Node that has them,
//     same pid, nothing left behind;
//  3. a child Node with them, this process waiting as a bare Node (~43 MiB RSS, most of it
//     the binary's pages it shares with the child) to pass signals and the exit status on.
//     Exiting instead would leave a shell or a service manager with the wrong pid and status.
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startHeapBounds, wantsHeapBounds } from './heap-bounds.js'
import { formatLog, isJournal } from './log.js'
import { needsSandbox } from './needs-sandbox.js'
import { privateUmask } from './private-umask.js'
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

/** The tsc projects the bundle is built from (their build info under dist/.tsbuild/). */
const BUNDLED_PROJECTS = ['src', 'device', 'cloud-sync', 'cli']

/**
 * What runs the command: the bundle scripts/bundle.mjs builds after tsc (dist/bundle/cli.js,
 * minified: a third of the memory for module sources, docs/performance.md "Where the bytes
 * are"), or the modules tsc wrote (./index.js) when there is no bundle, when a later
 * `tsc -b` left it older than what it was built from, or with LAMBKIN_BUNDLE=off.
 */
function entry (): string {
  const modules = './index.js'
  if (process.env.LAMBKIN_BUNDLE === 'off') return modules
  let built: number
  try {
    built = statSync(new URL('../bundle/cli.js', import.meta.url)).mtimeMs
  } catch {
    return modules
  }
  let infos: string[]
  try {
    infos = readdirSync(new URL('../.tsbuild/', import.meta.url))
  } catch {
    return '../bundle/cli.js' // an install without tsc's build info (the arm64 image, a package)
  }
  for (const p of BUNDLED_PROJECTS) {
    if (!infos.includes(`${p}.tsbuildinfo`)) continue
    if (statSync(new URL(`../.tsbuild/${p}.tsbuildinfo`, import.meta.url)).mtimeMs > built) return modules
  }
  return '../bundle/cli.js'
}

/** Replaces this process with `argv` (Node's process.execve, where it exists); returns only if it could not. */
function execInPlace (argv: string[], env: NodeJS.ProcessEnv): void {
  // In @types/node from 22.15; typed here so the Node 20 build compiles.
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve
  if (typeof execve !== 'function') return
  try {
    execve(process.execPath, [process.execPath, ...argv], env)
  } catch {
    // Refused (a worker thread, a platform without execve): the child below does it.
  }
}

const rerun = plan()
if (rerun !== undefined) {
  const flags = rerun.flags
  execInPlace([...flags, ...process.execArgv, fileURLToPath(import.meta.url), ...args], { ...process.env, ...rerun.env })
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
  privateUmask(args)
  // Under Node's defaults, before the heap grows: the agent's heap growth bounded from inside
  // (cli/heap-bounds.ts), the board profile's flags being on the command line.
  if (needsSandbox(args) && wantsHeapBounds({ arch: process.arch, env: process.env, execArgv: process.execArgv })) startHeapBounds()
  const first = entry()
  // A bundle that does not load (a chunk cut short by a power cut mid-build, a file deleted)
  // must not keep a board's agent from starting: the modules tsc wrote run instead.
  const cli: Promise<typeof import('./index.js')> = import(first).catch((err: unknown) => {
    if (first === './index.js') throw err
    process.stderr.write(formatLog(`lambkin: dist/bundle/cli.js did not load (${String(err)}); running the modules tsc wrote instead. \`npm run build\` rebuilds the bundle`, 'warning', journal))
    return import('./index.js')
  })
  cli
    .then(({ main }) =>
      main(args, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), isTTY: process.stdout.isTTY === true, journal })
    )
    .then((code) => {
      process.exitCode = code
    })
    .catch((err: unknown) => {
      process.stderr.write(formatLog(`LAMBKIN_INTERNAL: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 'err', journal))
      process.exitCode = 1
    })
}

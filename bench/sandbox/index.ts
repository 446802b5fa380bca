// bench/sandbox: lambkin's pool against QuickJS's own floor (quickjs-emscripten used directly)
// and, as reference points only, isolated-vm and node:vm; measured in the same run, each case
// in a fresh process. The trivial call runs in rounds beside raw QuickJS and beside an echo
// worker (the floor of the thread hop alone). Then the CPU-heavy case for every QuickJS build
// that is installed. The last line is the one-line summary.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_VARIANT } from '../../src/sandbox/quickjs-binary.js'
import { PEERS_PACKAGE, hasPeer } from '../peers/require.js'
import { errorMessage } from '../../src/errors.js'

const CASES = fileURLToPath(new URL('./cases.js', import.meta.url))
/** Worker threads of the pool in cases.ts. */
const POOL_WORKERS = 2

/** A case should take seconds; one that takes this long has hung (a build that cannot run it). */
const CASE_TIMEOUT_MS = 120_000

function run (kind: string, which: string, nodeFlags: string[] = [], concurrency = 1, variant?: string): Record<string, number> {
  const env = { ...process.env, BENCH_CONCURRENCY: String(concurrency), ...(variant === undefined ? {} : { LAMBKIN_QUICKJS_VARIANT: variant }) }
  const out = execFileSync(process.execPath, ['--expose-gc', ...nodeFlags, CASES, kind, which], { encoding: 'utf8', maxBuffer: 1 << 20, env, timeout: CASE_TIMEOUT_MS })
  return JSON.parse(out.trim().split('\n').pop() as string) as Record<string, number>
}

/**
 * The QuickJS builds to compare: the release builds quickjs-emscripten ships beside it (its
 * debug builds are not candidates: assertions on, and far slower), and quickjs-ng's release
 * build when bench/peers has it. BENCH_QUICKJS_VARIANTS (comma-separated package names
 * or folders) replaces the list.
 */
function variants (): Array<{ label: string, variant: string }> {
  if (process.env.BENCH_QUICKJS_VARIANTS !== undefined) {
    return process.env.BENCH_QUICKJS_VARIANTS.split(',').filter((v) => v !== '').map((v) => ({ label: v.split('/').pop() as string, variant: v }))
  }
  const beside = createRequire(createRequire(import.meta.url).resolve('quickjs-emscripten'))
  const out: Array<{ label: string, variant: string }> = []
  for (const name of ['release-sync', 'release-asyncify']) {
    try {
      beside.resolve(`@jitl/quickjs-wasmfile-${name}/package.json`)
      out.push({ label: name, variant: `@jitl/quickjs-wasmfile-${name}` })
    } catch { /* not installed */ }
  }
  const ng = quickjsNg(beside)
  if (ng !== undefined) out.push({ label: 'ng release-sync', variant: ng })
  return out
}

/**
 * quickjs-ng's release build at the version of the quickjs-emscripten installed, from
 * bench/peers when it is there, else installed on demand into a scratch folder (as the
 * bench's other peers are: never part of the main install). Undefined when it cannot be had.
 */
function quickjsNg (beside: NodeJS.Require): string | undefined {
  const pkg = '@jitl/quickjs-ng-wasmfile-release-sync'
  try {
    return dirname(createRequire(PEERS_PACKAGE).resolve(`${pkg}/package.json`))
  } catch { /* not in bench/peers */ }
  const version = (JSON.parse(readFileSync(beside.resolve('quickjs-emscripten/package.json'), 'utf8')) as { version: string }).version
  const scratch = join(tmpdir(), `lambkin-bench-quickjs-ng-${version}`)
  const dir = join(scratch, 'node_modules', ...pkg.split('/'))
  if (!existsSync(join(dir, 'package.json'))) {
    try {
      mkdirSync(scratch, { recursive: true })
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', scratch, `${pkg}@${version}`], { stdio: 'ignore', timeout: CASE_TIMEOUT_MS })
    } catch {
      console.log(`${pkg}@${version} could not be installed into ${scratch}: quickjs-ng is left out`)
      return undefined
    }
  }
  return dir
}

const f = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const refs = hasPeer('isolated-vm') ? ['ivm', 'vm'] : ['vm']
if (!refs.includes('ivm')) console.log('isolated-vm is not installed in bench/peers (scripts/bench-peers.sh): node:vm is the only reference point')

/** Rounds of the trivial-call runs; each round measures raw QuickJS next to lambkin. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const range = (xs: number[], d = 2): string => `${f(Math.min(...xs), d)}-${f(Math.max(...xs), d)}`

const rows: Record<string, Record<string, Record<string, number>>> = {}
for (const which of ['cpu', 'cold', 'idle']) {
  rows[which] = {}
  for (const kind of ['lambkin', 'quickjs', ...refs]) rows[which][kind] = run(kind, which)
}
// The trivial call is what a shared machine disturbs most: each round runs raw QuickJS, the
// pool with one sandbox, the pool with a sandbox on each of its 2 worker threads (one hot
// function at concurrency 2), the echo worker, and raw QuickJS on one and on 2 worker threads
// fed as the pool feeds its threads (the floor of a sandbox per thread) back to back, and each
// ratio is taken within its round. Medians and ranges over the rounds are printed.
const rounds: Array<Record<string, Record<string, number>>> = []
for (let r = 0; r < ROUNDS; r++) {
  rounds.push({
    quickjs: run('quickjs', 'trivial'),
    lambkin: run('lambkin', 'trivial'),
    pooled: run('lambkin', 'trivial', [], POOL_WORKERS),
    hop: run('hop', 'trivial'),
    threaded: run('threaded', 'trivial'),
    threadedPerCore: run('threaded', 'trivial', [], POOL_WORKERS)
  })
}
const trivialRefs = Object.fromEntries(refs.map((p) => [p, run(p, 'trivial')]))
// A realistic event (a sensor reading of about 240 characters of JSON, answered unchanged):
// QuickJS's own JSON work grows with it, the per-call cost of the hop and the guarantees
// does not, so this ratio is what a function that reads its event sees. One round.
const echo = { quickjs: run('quickjs', 'echo'), lambkin: run('lambkin', 'echo'), pooled: run('lambkin', 'echo', [], POOL_WORKERS) }
const trapOff = { trivial: run('lambkin', 'trivial', ['--disable-wasm-trap-handler']), cpu: run('lambkin', 'cpu', ['--disable-wasm-trap-handler']) }

const col = (kind: string, key: string): number[] => rounds.map((r) => r[kind][key])
const med = (kind: string, key: string): number => median(col(kind, key))
const ratios = (kind: string): number[] => rounds.map((r) => r[kind].perSecond / r.quickjs.perSecond)
/** "N/s (range), X us CPU/call: main M, other threads O" for one runtime over the rounds. */
const trivialLine = (kind: string): string => {
  const split = rounds[0][kind].mainUsPerCall === undefined ? '' : `: main thread ${f(med(kind, 'mainUsPerCall'), 1)}, other threads ${f(med(kind, 'otherUsPerCall'), 1)}`
  return `${f(med(kind, 'perSecond'))}/s (${range(col(kind, 'perSecond'), 0)}), ${f(med(kind, 'cpuUsPerCall'), 1)} us CPU/call${split}`
}
const one = ratios('lambkin')
const perCore = ratios('pooled')
const floorOne = ratios('threaded')
const floorPerCore = ratios('threadedPerCore')
const cpuRatio = (r: Record<string, number>): number => r.cpuUsPerCall

console.log(`throughput, trivial handler, medians of ${ROUNDS} rounds (range): raw quickjs in-process ${trivialLine('quickjs')}; references: ${refs.map((p) => `${p} ${f(trivialRefs[p].perSecond)}/s (${f(cpuRatio(trivialRefs[p]), 1)} us CPU/call)`).join(', ')}`)
console.log(`  lambkin, one sandbox: ${trivialLine('lambkin')}; ${f(median(one), 2)}x raw (${range(one)})`)
console.log(`  lambkin, a sandbox per core (concurrency ${POOL_WORKERS} over ${POOL_WORKERS} worker threads): ${trivialLine('pooled')}; ${f(median(perCore), 2)}x raw (${range(perCore)})`)
console.log(`  floor of the thread hop (an echo worker, batched as the pool batches; no sandbox): ${trivialLine('hop')}`)
console.log(`  floor of a sandbox per thread (raw QuickJS in worker threads, fed as the pool feeds its threads; no budgets, checks, ctx or state): one thread ${trivialLine('threaded')}; ${f(median(floorOne), 2)}x raw (${range(floorOne)}); ${POOL_WORKERS} threads ${trivialLine('threadedPerCore')}; ${f(median(floorPerCore), 2)}x raw (${range(floorPerCore)})`)
if (rounds[0].lambkin.mainUsPerCall !== undefined) {
  // What the CPU per call allows when each thread has a core to itself (raw QuickJS is one
  // thread, so it is bound by its own CPU per call): on a shared machine the measured rates
  // also depend on how many cores the process was given, which this does not.
  const bound = (r: Record<string, Record<string, number>>, kind: string, threads: number): number => {
    const { mainUsPerCall: main, otherUsPerCall: others } = r[kind]
    return r.quickjs.cpuUsPerCall / Math.max(main, others / threads, (main + others) / POOL_WORKERS)
  }
  const b1 = rounds.map((r) => bound(r, 'lambkin', 1))
  const b2 = rounds.map((r) => bound(r, 'pooled', POOL_WORKERS))
  console.log(`  bound by CPU per call alone, with a core per busy thread on ${POOL_WORKERS} cores: one sandbox ${f(median(b1), 2)}x raw (${range(b1)}), one per core ${f(median(b2), 2)}x (${range(b2)})`)
}
console.log(`throughput, a sensor reading echoed (about 240 characters of JSON in and out, one round): raw quickjs ${f(echo.quickjs.perSecond)}/s, ${f(echo.quickjs.cpuUsPerCall, 1)} us CPU/call; lambkin one sandbox ${f(echo.lambkin.perSecond)}/s, ${f(echo.lambkin.cpuUsPerCall, 1)} us CPU/call, ${f(echo.lambkin.perSecond / echo.quickjs.perSecond, 2)}x raw; a sandbox per core ${f(echo.pooled.perSecond)}/s, ${f(echo.pooled.cpuUsPerCall, 1)} us CPU/call, ${f(echo.pooled.perSecond / echo.quickjs.perSecond, 2)}x raw`)
console.log(`throughput, cpu-heavy handler (primes < 20000): lambkin ${f(rows.cpu.lambkin.perSecond, 1)}/s, raw quickjs ${f(rows.cpu.quickjs.perSecond, 1)}/s; references: ${refs.map((p) => `${p} ${f(rows.cpu[p].perSecond, 1)}/s`).join(', ')}`)
console.log(`cold start (load to first result): lambkin median ${f(rows.cold.lambkin.medianMs, 2)} ms, p90 ${f(rows.cold.lambkin.p90Ms, 2)} ms; raw quickjs (new instance, runtime, context) ${f(rows.cold.quickjs.medianMs, 2)} ms, p90 ${f(rows.cold.quickjs.p90Ms, 2)}; references: ${refs.map((p) => `${p} ${f(rows.cold[p].medianMs, 2)} ms`).join(', ')}`)
console.log(`memory per idle sandbox (RSS growth over 200): lambkin ${f(rows.idle.lambkin.perSandboxKiB)} KiB, raw quickjs runtime+context in its own wasm instance ${f(rows.idle.quickjs.perSandboxKiB)} KiB; references: ${refs.map((p) => `${p} ${f(rows.idle[p].perSandboxKiB)} KiB`).join(', ')}`)
console.log(`--disable-wasm-trap-handler: trivial ${f(trapOff.trivial.perSecond)}/s (${f(trapOff.trivial.perSecond / rounds[rounds.length - 1].lambkin.perSecond, 2)}x of default, last round), cpu ${f(trapOff.cpu.perSecond, 1)}/s (${f(trapOff.cpu.perSecond / rows.cpu.lambkin.perSecond, 2)}x)`)

// The builds side by side on the CPU-heavy case; the default is the one the tests hold to.
const builds = variants().map(({ label, variant }) => {
  try {
    return `${label}${variant === DEFAULT_VARIANT ? ' (in use)' : ''} lambkin ${f(run('lambkin', 'cpu', [], 1, variant).perSecond, 1)}/s, raw ${f(run('quickjs', 'cpu', [], 1, variant).perSecond, 1)}/s`
  } catch (err) {
    return `${label} failed (${errorMessage(err).split('\n')[0]})`
  }
})
console.log(`QuickJS builds, cpu-heavy handler: ${builds.join('; ')}`)

const mem = rows.idle.lambkin.perSandboxKiB / rows.idle.quickjs.perSandboxKiB
console.log(`sandbox vs raw quickjs: trivial ${f(median(one), 2)}x on one sandbox (target >= 0.8; ${ROUNDS} rounds ${range(one)}), ${f(median(perCore), 2)}x with one per core (target >= 1.5; ${range(perCore)}), the floor of a thread per core ${f(median(floorPerCore), 2)}x, cpu ${f(rows.cpu.lambkin.perSecond / rows.cpu.quickjs.perSecond, 2)}x, idle memory ${f(mem, 2)}x (target <= 1.25), cold start p50 ${f(rows.cold.lambkin.medianMs, 2)} ms p90 ${f(rows.cold.lambkin.p90Ms, 2)} ms (target p90 < 2); ${refs[0]} reference: trivial ${f(trivialRefs[refs[0]].perSecond === 0 ? 0 : med('lambkin', 'perSecond') / trivialRefs[refs[0]].perSecond, 2)}x, idle memory ${f(rows.idle.lambkin.perSandboxKiB / rows.idle[refs[0]].perSandboxKiB, 1)}x`)

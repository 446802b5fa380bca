// bench/board: the agent's whole process tree, idle and under load, with board settings
// (LAMBKIN_MEMORY=small, LAMBKIN_WASM_TRAP_HANDLER=off as on ARM), started two ways:
//  - `lambkin device` typed as is: bin.js adds the flags by re-running Node, as a child with
//    this process waiting (Node < 22.15), or in place with process.execve (newer Node);
//  - Node started with the flags and MALLOC_ARENA_MAX up front, as the systemd unit and the
//    arm64 image do (docs/boards.md, "Running as a service"): one process.
// Each with BOARD_FUNCTIONS functions (default 50) on its embedded broker, QoS 1 messages over
// 8 of them (BOARD_MESSAGES, default 20000, 500 in flight, PUBACK after commit). RSS counts a
// page shared by two processes twice; PSS splits it (also with other Node processes on the
// machine); USS is what a process has alone, what ending it would free. Figures, no verdict;
// the last line is a summary.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { planRuntime } from '../../cli/node-runtime.js'

const BIN = fileURLToPath(new URL('../../cli/bin.js', import.meta.url))
const FUNCTIONS = Number(process.env.BOARD_FUNCTIONS ?? 50)
const MESSAGES = Number(process.env.BOARD_MESSAGES ?? 20_000)
const IN_FLIGHT = 500
const MiB = 1024

/** RSS; PSS (shared pages split between the processes mapping them); USS (pages this process alone has). */
interface Proc { pid: number, rssMiB: number, pssMiB: number, ussMiB: number }

/** pid and its descendants, from /proc (Linux). */
function tree (pid: number): number[] {
  const kids = existsSync(`/proc/${pid}/task/${pid}/children`) ? readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((k) => k !== '').map(Number) : []
  return [pid, ...kids.flatMap(tree)]
}

function measure (pid: number): Proc[] {
  return tree(pid).map((p) => {
    const field = (text: string, name: string): number => Number((new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(text) ?? [0, 0])[1]) / MiB
    const rollup = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8')
    return { pid: p, rssMiB: field(readFileSync(`/proc/${p}/status`, 'utf8'), 'VmRSS'), pssMiB: field(rollup, 'Pss'), ussMiB: field(rollup, 'Private_Clean') + field(rollup, 'Private_Dirty') }
  })
}
const sum = (ps: Proc[], k: 'rssMiB' | 'pssMiB' | 'ussMiB'): number => ps.reduce((s, p) => s + p[k], 0)

interface Row { mode: string, processes: number, idleRss: number, idlePss: number, peakRss: number, peakPss: number, perProcess: string, perSecond: number }

async function run (mode: 'as typed' | 'flags up front', root: string): Promise<Row> {
  const board = planRuntime({ arch: 'arm64', env: {}, execArgv: [] })
  const env: Record<string, string | undefined> = { ...process.env, LAMBKIN_MEMORY: 'small', LAMBKIN_WASM_TRAP_HANDLER: 'off', MALLOC_ARENA_MAX: undefined }
  if (mode === 'flags up front') Object.assign(env, board.env)
  const data = path.join(root, `data-${mode.replace(/ /g, '-')}`)
  const agent = spawn(process.execPath, [...(mode === 'flags up front' ? board.flags : []), BIN, 'device', '--id', 'board', '--data', data, '--functions', path.join(root, 'functions'), '--broker-port', '0', '--quiet'], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  const port = await new Promise<number>((resolve, reject) => {
    agent.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s
      const m = / ready: .*broker mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (m !== null) resolve(Number(m[1]))
    })
    agent.once('exit', (code) => reject(new Error(`the agent exited (${String(code)}) before it was ready: ${out}`)))
  })
  const pid = agent.pid as number
  await new Promise((resolve) => setTimeout(resolve, 5000))
  const idle = measure(pid)
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 })
  let peakRss = 0
  let peakPss = 0
  let peakAt: Proc[] = idle
  const sampler = setInterval(() => {
    const m = measure(pid)
    if (sum(m, 'rssMiB') > peakRss) { peakRss = sum(m, 'rssMiB'); peakAt = m }
    peakPss = Math.max(peakPss, sum(m, 'pssMiB'))
  }, 100)
  let next = 0
  const t0 = performance.now()
  const lane = async (): Promise<void> => { while (next < MESSAGES) { const i = next++; await client.publishAsync(`load/${i % 8}`, JSON.stringify({ i, value: 20 + (i % 10) }), { qos: 1 }) } }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
  const perSecond = MESSAGES / ((performance.now() - t0) / 1000)
  clearInterval(sampler)
  await client.endAsync()
  const exited = new Promise((resolve) => agent.once('exit', resolve))
  agent.kill('SIGTERM')
  await exited
  return {
    mode,
    processes: idle.length,
    idleRss: sum(idle, 'rssMiB'),
    idlePss: sum(idle, 'pssMiB'),
    peakRss,
    peakPss,
    perProcess: peakAt.map((p, i) => `${i === 0 ? 'started' : 'child'} ${p.rssMiB.toFixed(1)} (USS ${p.ussMiB.toFixed(1)})`).join(' + '),
    perSecond
  }
}

const root = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-board-'))
try {
  for (let i = 0; i < FUNCTIONS; i++) {
    const dir = path.join(root, 'functions', `f${i}`)
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, 'function.json'), JSON.stringify({ name: `f${i}`, triggers: [{ mqtt: `load/${i}`, qos: 1 }], limits: { memoryKiB: 16384 } }))
    writeFileSync(path.join(dir, 'index.js'), 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { i: e.payload.i, hot: e.payload.value > 25 } }')
  }
  const rows: Row[] = []
  for (const mode of ['as typed', 'flags up front'] as const) rows.push(await run(mode, root))
  const f = (n: number): string => n.toFixed(1)
  console.log(`Node ${process.version} (process.execve: ${typeof (process as { execve?: unknown }).execve === 'function' ? 'yes' : 'no'}), ${FUNCTIONS} functions, ${MESSAGES} QoS 1 messages over 8 of them`)
  console.log('| started | processes | idle RSS | idle PSS | peak RSS under load (per process, USS) | peak PSS | msg/s |')
  console.log('|---|---|---|---|---|---|---|')
  for (const r of rows) console.log(`| ${r.mode} | ${r.processes} | ${f(r.idleRss)} MiB | ${f(r.idlePss)} MiB | ${f(r.peakRss)} MiB (${r.perProcess}) | ${f(r.peakPss)} MiB | ${Math.round(r.perSecond)} |`)
  const [a, b] = rows as [Row, Row]
  console.log(`board: process tree peak RSS ${f(a.peakRss)} MiB as typed (${a.processes} processes), ${f(b.peakRss)} MiB with the flags up front (${b.processes}); PSS ${f(a.peakPss)} vs ${f(b.peakPss)} MiB`)
} finally {
  rmSync(root, { recursive: true, force: true })
}

// bench/web: the fleet dashboard measured by the browser's own clocks (Debian's Chromium,
// headless, cold cache each load), against a real cloud on loopback:
// - first load: JavaScript bytes as transferred (gzipped), first contentful paint, and when
//   the devices table first shows, for a 3-device fleet (median of 5 cold loads);
// - filtering 10,000 devices (registry rows written straight into LevelDB): from the input
//   event to the frame after the table re-rendered, beside the bare Array.filter of the same
//   rows in the same page (the floor: no rendering at all);
// - a live update: from a real agent's invocation committing its "tick N" log record to the
//   frame that paints that line on the device page (wall clocks of one machine).
// Alone: `npm run bench:web`. The last line is the summary.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { Cloud, operatorToken } from '../../cloud-sync/index.js'
import { LevelRegistry } from '../../cloud-sync/registry/index.js'
import { Agent } from '../../device/index.js'
import type { InvocationRecord } from '../../device/index.js'
import { loadDeviceConfig } from '../../device/config/index.js'
import { launch } from './browser.js'
import { LOAD_FIGURES, RECORD_TICKS, bareFilter, filterOnce, prime } from './page-scripts.js'

const LOADS = 5
const FLEET = 10_000
const TICKS = 20
const f = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

async function until (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

const root = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-web-'))
const browser = await launch()
const agents: Agent[] = []
const clouds: Cloud[] = []
try {
  // A small fleet of real agents; one runs "ticker" every second, logging "tick N".
  const small = await Cloud.create({ dataDir: path.join(root, 'small'), port: 0, apiPort: 0 })
  clouds.push(small)
  const token = operatorToken(path.join(root, 'small')).token
  const api = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${small.api.url}${route}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    return await res.json() as T
  }
  const commits = new Map<number, number>()
  for (const id of ['lab-1', 'lab-2', 'lab-3']) {
    const { secret } = await api<{ secret: string }>('POST', '/v1/devices', { id, group: 'lab' })
    const dir = path.join(root, 'agents', id)
    mkdirSync(path.join(dir, 'functions', 'ticker'), { recursive: true })
    if (id === 'lab-1') {
      writeFileSync(path.join(dir, 'functions', 'ticker', 'function.json'), JSON.stringify({ name: 'ticker', triggers: [{ schedule: '* * * * * *' }] }))
      writeFileSync(path.join(dir, 'functions', 'ticker', 'index.js'), 'let n = 0\nexport default (e, ctx) => { n++; ctx.log("tick " + n); return { n } }\n')
    }
    const file = path.join(dir, 'device.json')
    writeFileSync(file, JSON.stringify({ id, dataDir: path.join(dir, 'data'), functionsDir: path.join(dir, 'functions'), invocation: { workers: 1 }, cloud: { url: small.broker.url, password: secret, heartbeatMs: 5000 } }))
    const agent = await Agent.create(await loadDeviceConfig({ file, env: {} }))
    agents.push(agent)
    if (id === 'lab-1') agent.on('invocation', (r: InvocationRecord) => { const n = (r.result as { n?: number } | undefined)?.n; if (r.fn === 'ticker' && typeof n === 'number') commits.set(n, Date.now()) })
  }

  // 1. First loads, each in a fresh context (empty cache).
  const loads: Array<{ fcp: number | null, domContentLoaded: number, shown: number | null, jsEncoded: number, jsDecoded: number, cssEncoded: number }> = []
  const loginFcp: number[] = []
  for (let i = 0; i < LOADS; i++) {
    const ctx = await browser.newContext()
    await ctx.addInitScript(prime(token))
    const page = await ctx.newPage()
    await page.goto(`${small.api.url}/`)
    await until('the devices table', async () => await page.evaluate('window.__shown !== null') as boolean)
    loads.push(await page.evaluate(LOAD_FIGURES) as typeof loads[number])
    await ctx.close()
    const login = await browser.newContext()
    const lp = await login.newPage()
    await lp.goto(`${small.api.url}/`)
    await lp.getByLabel('Operator token').waitFor()
    await sleep(100)
    loginFcp.push((await lp.evaluate(LOAD_FIGURES) as { fcp: number }).fcp)
    await login.close()
  }
  const jsKiB = loads[0].jsEncoded / 1024
  const fcp = median(loads.map((l) => l.fcp ?? NaN))
  const shown = median(loads.map((l) => l.shown ?? NaN))
  console.log(`first load, 3 devices, cold cache, median of ${LOADS}: JavaScript ${f(jsKiB, 1)} KiB gzipped as sent (${f(loads[0].jsDecoded / 1024, 1)} KiB unpacked), CSS ${f(loads[0].cssEncoded / 1024, 1)} KiB; first contentful paint ${f(fcp)} ms (login page ${f(median(loginFcp))} ms); devices table shown ${f(shown)} ms after navigation start`)

  // 2. A live update: agent commit -> cloud -> event stream -> log tail painted.
  const ctx = await browser.newContext()
  await ctx.addInitScript(prime(token))
  const page: Page = await ctx.newPage()
  await page.goto(`${small.api.url}/#/device/lab-1`)
  await page.getByRole('heading', { name: 'Logs (live)' }).waitFor()
  await sleep(1500)
  await page.evaluate(RECORD_TICKS)
  const from = Math.max(0, ...commits.keys()) + 1
  await until(`${TICKS} ticks on the page`, async () => Object.entries(await page.evaluate('window.__ticks') as Record<string, number>).filter(([n, t]) => Number(n) >= from && t > 0).length >= TICKS, (TICKS + 30) * 1000)
  const marks = await page.evaluate('window.__ticks') as Record<string, number>
  const lags = Object.entries(marks)
    .map(([n, at]) => ({ n: Number(n), at }))
    .filter((m) => m.n >= from && m.at > 0 && commits.has(m.n))
    .map((m) => m.at - (commits.get(m.n) as number))
  await ctx.close()
  console.log(`live update, one agent logging every second, ${lags.length} records: commit on the agent to the line painted on the device page median ${f(median(lags))} ms, p95 ${f(pct(lags, 0.95))} ms, max ${f(Math.max(...lags))} ms`)
  for (const a of agents.splice(0)) await a.close()
  await small.close()
  clouds.splice(0)

  // 3. Filtering 10,000 devices.
  const bigDir = path.join(root, 'big')
  const reg = await LevelRegistry.open(bigDir)
  const now = Date.now()
  for (let i = 0; i < FLEET; i++) {
    const id = `sim-${String(i).padStart(5, '0')}`
    await reg.addDevice({ id, group: `g${String(i % 20).padStart(2, '0')}`, secretHash: 'unused', createdAt: now })
    if (i % 7 !== 3) await reg.touch(id, { lastSeen: now - (i % 3600) * 1000, status: { state: 'online', agent: '0.1.0', functions: [{ name: 'thermo', version: '0123456789abcdef' }, { name: i % 2 === 0 ? 'fan' : 'pump', version: 'fedcba9876543210' }], heartbeatMs: 30_000 }, heartbeat: { time: now, backlog: { records: i % 100, bytes: i }, uploadedToday: i, lastSeq: 0 } })
  }
  await reg.close()
  const big = await Cloud.create({ dataDir: bigDir, port: 0, apiPort: 0 })
  clouds.push(big)
  // GET /v1/fleet the first time after a start reads every device's rows; later ones only what changed.
  const fleetCall = async (): Promise<number> => {
    const t0 = performance.now()
    await (await fetch(`${big.api.url}/v1/fleet`, { headers: { authorization: `Bearer ${operatorToken(bigDir).token}`, 'accept-encoding': 'gzip' } })).arrayBuffer()
    return performance.now() - t0
  }
  const coldFleet = await fleetCall()
  await sleep(1100)
  const warmFleet = await fleetCall()
  const bctx = await browser.newContext()
  await bctx.addInitScript(prime(operatorToken(bigDir).token))
  const bp = await bctx.newPage()
  await bp.goto(`${big.api.url}/`)
  await until('10,000 rows', async () => await bp.evaluate('window.__shown !== null') as boolean)
  const bigShown = (await bp.evaluate(LOAD_FIGURES) as { shown: number }).shown
  const CASES: Array<[string, string]> = [['sim-0042', ''], ['pump', ''], ['g07', ''], ['', 'never-seen'], ['thermo', 'offline'], ['', '']]
  const times: number[] = []
  for (let round = 0; round < 3; round++) {
    for (const [q, s] of CASES) times.push((await bp.evaluate(filterOnce(q, s)) as { ms: number }).ms)
  }
  const bare = await bp.evaluate(bareFilter('pump')) as { ms: number, n: number }
  await bctx.close()
  const filterMedian = median(times)
  const filterMax = Math.max(...times)
  console.log(`filtering ${f(FLEET)} devices (${CASES.length} searches and status picks x 3), input to the frame after re-render: median ${f(filterMedian, 1)} ms, max ${f(filterMax, 1)} ms; bare Array.filter of the same rows ${f(bare.ms, 2)} ms (${f(filterMedian / Math.max(bare.ms, 0.01), 0)}x: the rest is rendering the visible rows and painting); table of ${f(FLEET)} first shown ${f(bigShown)} ms after navigation start (GET /v1/fleet of ${f(FLEET)} devices: ${f(coldFleet)} ms the first time after the cloud starts, ${f(warmFleet)} ms after)`)
  console.log(`machine: ${cpus().length} cores, load average ${f(loadavg()[0], 1)}`)
  console.log(`web: first-load JS ${f(jsKiB, 1)} KiB gzipped (target <= 100), first paint ${f(fcp)} ms and table ${f(shown)} ms (target < 1000), filter ${f(FLEET)} rows median ${f(filterMedian, 1)} ms max ${f(filterMax, 1)} ms (target < 50), live update median ${f(median(lags))} ms p95 ${f(pct(lags, 0.95))} ms (target < 1000)`)
} finally {
  for (const a of agents) await a.close().catch(() => {})
  for (const c of clouds) await c.close().catch(() => {})
  await browser.close()
  rmSync(root, { recursive: true, force: true })
}

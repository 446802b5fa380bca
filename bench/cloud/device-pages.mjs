// bench/cloud/device-pages: GET /v1/devices and /v1/status on a 5,000-device PostgreSQL
// registry (docs/performance.md, "The devices list"), builds side by side: each dist given
// gets its own database filled alike, then rounds run the builds in turn (A B A B), each
// reading every page (following `next` where the API gives one), the first answer alone, and
// `lambkin devices` / `lambkin status` as a user runs them. A build from before pages answers
// everything at once. Usage, after `npm run build` of each (the old one copied aside):
//   node bench/cloud/device-pages.mjs /tmp/old/dist dist    (N=5000 ROUNDS=4 REPS=3 LIMIT=)
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
const run = promisify(execFile)
const dists = process.argv.slice(2).map((d) => path.resolve(d))
const N = Number(process.env.N ?? 5000)
const ROUNDS = Number(process.env.ROUNDS ?? 4)
const REPS = Number(process.env.REPS ?? 3)
const mods = await Promise.all(dists.map(async (d) => ({
  d,
  cloud: await import(path.join(d, 'cloud-sync/index.js')),
  pg: await import(path.join(d, 'cloud-sync/registry/pg/index.js'))
})))
const { startPostgres } = await import(path.join(dists[0], 'test/helpers/postgres.js'))
const server = await startPostgres()
const now = Date.now()
for (const m of mods) {
  m.url = await server.createDatabase()
  const r = await m.pg.PgRegistry.open({ url: m.url, retentionDays: 0 })
  const ids = Array.from({ length: N }, (_, i) => `dev-${String(i).padStart(5, '0')}`)
  for (let k = 0; k < ids.length; k += 50) {
    await Promise.all(ids.slice(k, k + 50).map(async (id, j) => {
      const i = k + j
      await r.addDevice({ id, group: `g${i % 20}`, secretHash: 'x', createdAt: now })
      await r.touch(id, { lastSeen: now, status: { state: 'online', agent: '0.1.0', functions: [{ name: 'thermo', version: '0123456789abcdef' }, { name: 'fan', version: 'fedcba9876543210' }], heartbeatMs: 30000 }, heartbeat: { time: now, backlog: { records: i % 100, bytes: i }, uploadedToday: i, lastSeq: 0 } })
      await r.putReported(id, { deploymentId: 3, receivedAt: now, functions: [{ name: 'thermo', version: '0123456789abcdef' }] })
    }))
  }
  await r.close()
  m.dir = mkdtempSync(path.join(tmpdir(), 'fpbench-'))
}
const results = {}
async function fetchAll (base, token, route) {
  let bytes = 0; let pages = 0; let devices = 0; let after
  const t0 = performance.now()
  for (;;) {
    const q = after === undefined ? '' : `?after=${encodeURIComponent(after)}`
    const res = await fetch(`${base}${route}${q}${q === '' && process.env.LIMIT ? `?limit=${process.env.LIMIT}` : (process.env.LIMIT ? `&limit=${process.env.LIMIT}` : '')}`, { headers: { authorization: `Bearer ${token}` } })
    const text = await res.text()
    if (!res.ok) throw new Error(text)
    bytes += text.length; pages++
    const j = JSON.parse(text)
    devices += j.devices.length
    if (j.next == null) break
    after = j.next
  }
  return { ms: performance.now() - t0, bytes, pages, devices }
}
for (let round = 0; round < ROUNDS; round++) {
  for (const m of mods) {
    const c = await m.cloud.Cloud.create({ dataDir: m.dir, port: 0, apiPort: 0, db: { url: m.url } })
    const token = m.cloud.operatorToken(m.dir).token
    await fetchAll(c.api.url, token, '/v1/devices').catch(() => {})
    for (const route of ['/v1/devices', '/v1/status']) {
      for (let k = 0; k < REPS; k++) {
        const key = `${m.d} ${route}`
        let r
        try { r = await fetchAll(c.api.url, token, route) } catch (err) { console.log(`${key}: failed: ${String(err.message).slice(0, 160)}`); (results[key] ??= []).failed = ((results[key] ??= []).failed ?? 0) + 1; continue }
        if (r.devices !== N) throw new Error(`${route}: ${r.devices} devices`)
        ;(results[key] ??= []).push(r)
      }
    }
    // One page (what a client needing a screenful waits for), and the CLI as a user runs it.
    for (let k = 0; k < REPS; k++) {
      const t0 = performance.now()
      const res = await fetch(`${c.api.url}/v1/devices?limit=500`, { headers: { authorization: `Bearer ${token}` } })
      const body = await res.text()
      ;(results[`${m.d} first answer`] ??= []).push({ ms: performance.now() - t0, bytes: body.length, pages: 1, devices: 0 })
    }
    for (const cmd of ['devices', 'status']) {
      const t0 = performance.now()
      const r = await run(process.execPath, [path.join(m.d, 'cli/bin.js'), cmd, '--api', c.api.url, '--token', token], { encoding: 'utf8', maxBuffer: 64 << 20 }).then((x) => ({ ...x, status: 0 }), (e) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? String(e), status: e.code ?? 1 }))
      const ms = performance.now() - t0
      const lines = r.stdout.split('\n').filter((l) => /^dev-/.test(l)).length
      if (r.status !== 0 || lines !== N) console.log(`${m.d} lambkin ${cmd}: exit ${r.status}, ${lines} rows; ${r.stderr.slice(0, 200)}`)
      ;(results[`${m.d} lambkin ${cmd}`] ??= []).push({ ms, bytes: r.stdout.length, pages: 1, devices: lines })
    }
    await c.close()
  }
}
for (const [k, rs] of Object.entries(results)) {
  if (rs.length === 0) { console.log(`${k}: all failed`); continue }
  const ms = rs.map((r) => r.ms).sort((a, b) => a - b)
  console.log(`${k}: ${ms[0].toFixed(0)}-${ms[ms.length - 1].toFixed(0)} ms (median ${ms[Math.floor(ms.length / 2)].toFixed(0)}), ${rs[0].pages} page(s), ${(rs[0].bytes / 1e6).toFixed(2)} MB, ${rs.failed ?? 0} failed`)
}
await server.close()
process.exit(0)

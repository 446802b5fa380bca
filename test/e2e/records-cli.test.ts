// The operator's record views against a real `lambkin cloud` and a real agent, all child
// processes: a function the device does not have is an error naming the ones it has; results
// and logs page back with --before and stream everything with --all; metrics with no snapshot
// yet says when one comes; LAMBKIN_API takes host:port; an agent whose functions all failed
// waits for deployments when it has a cloud.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { LevelOutboxStore } from '../../device/store/index.js'
import { freePort } from '../helpers/brokers.js'
import { runLambkin, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

/** Results the agent has buffered before it first connects: enough for several --all pages. */
const OLD = 2_500

async function until (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

interface Rec { stream: string, seq: number, fn: string, kind: string }

test('results and logs: unknown functions, paging with --before, --all as NDJSON, metrics before the first snapshot', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-records-'))
  const procs: LambkinProcess[] = []
  try {
    const dataDir = path.join(root, 'data')
    const store = await LevelOutboxStore.open({ dir: dataDir, quotaBytes: 64 * 1024 * 1024 })
    await store.commit({ records: Array.from({ length: OLD }, (_, k) => ({ kind: 'result' as const, fn: 'old', time: 1_700_000_000_000 + k, data: { result: { n: k + 1 } } })) })
    await store.commit({ records: Array.from({ length: 30 }, (_, k) => ({ kind: 'log' as const, fn: 'old', time: 1_700_000_100_000 + k, data: { lines: [{ level: 'info', time: 1_700_000_100_000 + k, msg: `line ${k + 1}` }] } })) })
    await store.close()
    const functionsDir = writeFunctions(path.join(root, 'fns'), {
      tick: { manifest: { triggers: [{ schedule: '* * * * * *' }] }, code: 'export default (e, ctx) => { ctx.log("tick"); return { at: e.scheduledTime } }' }
    })

    const [port, apiPort] = [await freePort(), await freePort()]
    const cloud = startLambkin(['cloud', '--data', path.join(root, 'cloud'), '--port', String(port), '--api-port', String(apiPort)])
    procs.push(cloud)
    const ready = await cloud.waitFor('stdout', /lambkin cloud ready: broker (\S+); api (\S+); operator token in (\S+)/)
    // host:port, as a user types it, means http:// [docs: "Operator views"].
    const env = { LAMBKIN_API: `127.0.0.1:${apiPort}`, LAMBKIN_TOKEN: readFileSync(ready[3], 'utf8').trim() }
    const lambkin = async (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> => await runLambkin(args, { env })
    const added = await lambkin(['devices', 'add', 'gh-01', '--json'])
    assert.is(added.code, 0, added.stderr)
    const { secret } = JSON.parse(added.stdout) as { secret: string }

    const config = path.join(root, 'device.json')
    writeFileSync(config, JSON.stringify({ id: 'gh-01', dataDir, functionsDir, metricsSnapshotMs: 7_200_000, cloud: { url: ready[1], heartbeatMs: 1000 } }))
    const agent = startLambkin(['device', '--config', config], { env: { LAMBKIN_CLOUD_PASSWORD: secret } })
    procs.push(agent)
    await agent.waitFor('stdout', /lambkin device gh-01 ready: functions tick/)
    const page = async (args: string[]): Promise<{ records: Rec[], next: string | null }> => {
      const r = await lambkin([...args, '--json'])
      assert.is(r.code, 0, r.stderr)
      return JSON.parse(r.stdout) as { records: Rec[], next: string | null }
    }
    await until('the buffered records and a tick result', async () => (await page(['results', 'gh-01', 'old', '--limit', '10000'])).records.length === OLD && (await page(['results', 'gh-01', 'tick'])).records.length > 0)

    // A function the device does not have: an error with a code, naming what it has.
    const unknown = await lambkin(['results', 'gh-01', 'tikc'])
    assert.is(unknown.code, 1, unknown.stdout)
    assert.is(unknown.stdout, '')
    assert.match(unknown.stderr, /^LAMBKIN_FUNCTION_NOT_FOUND: device gh-01 has no function "tikc" and no records of one; its functions: tick$/m)
    const unknownLogs = await lambkin(['logs', 'gh-01', 'tikc', '--json'])
    assert.is(unknownLogs.code, 1)
    assert.is((JSON.parse(unknownLogs.stdout) as { error: { code: string } }).error.code, 'LAMBKIN_FUNCTION_NOT_FOUND')
    const unknownMetrics = await lambkin(['metrics', 'gh-01', 'tikc'])
    assert.is(unknownMetrics.code, 1, unknownMetrics.stdout)
    assert.match(unknownMetrics.stderr, /^LAMBKIN_FUNCTION_NOT_FOUND: device gh-01 has no function "tikc"/m)
    // A function no longer loaded but with records stored is still listed.
    assert.is((await page(['results', 'gh-01', 'old', '--limit', '1'])).records.length, 1)

    // Paging back: each page starts right below the last one, and the table says how to go on.
    const first = await lambkin(['results', 'gh-01', 'old', '--limit', '3'])
    const more = /^more: lambkin results gh-01 old --before (\S+)$/m.exec(first.stderr)
    assert.ok(more !== null, first.stderr)
    assert.equal(first.stdout.trim().split('\n').slice(1).map((l) => Number(l.split(/\s+/)[0])), [OLD, OLD - 1, OLD - 2])
    const second = await page(['results', 'gh-01', 'old', '--limit', '3', '--before', more[1]])
    assert.equal(second.records.map((r) => r.seq), [OLD - 3, OLD - 4, OLD - 5])
    const last = await page(['results', 'gh-01', 'old', '--limit', '10000', '--before', second.next as string])
    assert.is(last.records.length, OLD - 6)
    assert.is(last.next, null, 'a page that is not full has no next')
    const badCursor = await lambkin(['results', 'gh-01', '--before', 'yesterday'])
    assert.is(badCursor.code, 1)
    assert.match(badCursor.stderr, /^LAMBKIN_REQUEST_INVALID: before must be a cursor/m)

    // --all: every record, newest first, one JSON line each, across pages of the API.
    const all = await lambkin(['results', 'gh-01', 'old', '--all'])
    assert.is(all.code, 0, all.stderr)
    const lines = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as Rec)
    assert.is(lines.length, OLD)
    assert.ok(lines.every((r, i) => r.seq === OLD - i && r.fn === 'old' && r.kind === 'result'), 'newest first, each once')

    // logs: the newest page oldest first, --before for the one before it, --all.
    const logs = await lambkin(['logs', 'gh-01', 'old', '--limit', '5'])
    assert.is(logs.code, 0, logs.stderr)
    assert.equal(logs.stdout.trim().split('\n').map((l) => l.replace(/^.* info /, '')), ['line 26', 'line 27', 'line 28', 'line 29', 'line 30'])
    const earlier = /^earlier: lambkin logs gh-01 old --before (\S+)$/m.exec(logs.stderr)
    assert.ok(earlier !== null, logs.stderr)
    const before = await lambkin(['logs', 'gh-01', 'old', '--limit', '2', '--before', earlier[1]])
    assert.equal(before.stdout.trim().split('\n').map((l) => l.replace(/^.* info /, '')), ['line 24', 'line 25'])
    const allLogs = await lambkin(['logs', 'gh-01', 'old', '--all'])
    assert.is(allLogs.stdout.trim().split('\n').length, 30)

    // metrics before the first snapshot: empty, and says why and when, from the device's own setting.
    const metrics = await lambkin(['metrics', 'gh-01'])
    assert.is(metrics.code, 0, metrics.stderr)
    assert.match(metrics.stdout, /^no metric snapshots from gh-01 yet: a device writes one every 120 min \(metricsSnapshotMs\) once its functions have run/)
    const metricsJson = JSON.parse((await lambkin(['metrics', 'gh-01', '--json'])).stdout) as { snapshots: number, metricsSnapshotMs: number }
    assert.equal([metricsJson.snapshots, metricsJson.metricsSnapshotMs], [0, 7_200_000])
  } finally {
    for (const p of procs) await p.stop('SIGKILL').catch(() => {})
    rmSync(root, { recursive: true, force: true })
  }
})

test('with a cloud, an agent whose functions all failed to load runs on and says it waits for deployments', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-records-'))
  const procs: LambkinProcess[] = []
  try {
    const functionsDir = writeFunctions(path.join(root, 'fns'), { broken: { code: 'export default () => {' } })
    const [port, apiPort] = [await freePort(), await freePort()]
    const cloud = startLambkin(['cloud', '--data', path.join(root, 'cloud'), '--port', String(port), '--api-port', String(apiPort)])
    procs.push(cloud)
    const ready = await cloud.waitFor('stdout', /lambkin cloud ready: broker (\S+); api (\S+); operator token in (\S+)/)
    const added = await runLambkin(['devices', 'add', 'gh-02', '--json'], { env: { LAMBKIN_API: ready[2], LAMBKIN_TOKEN: readFileSync(ready[3], 'utf8').trim() } })
    const { secret } = JSON.parse(added.stdout) as { secret: string }
    const agent = startLambkin(['device', '--id', 'gh-02', '--data', path.join(root, 'data'), '--functions', functionsDir, '--cloud', ready[1]], { env: { LAMBKIN_CLOUD_PASSWORD: secret } })
    procs.push(agent)
    await agent.waitFor('stdout', /lambkin device gh-02 ready: functions \(none yet: waiting for deployments from the cloud\); cloud mqtt:/)
    assert.match(agent.stderr(), /function \S+broken not loaded: LAMBKIN_COMPILE_ERROR: function broken does not parse: index\.js:1:23/)
    assert.match(agent.stderr(), 'no local function loaded (1 failed, see above): waiting for deployments from the cloud')
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null })
  } finally {
    for (const p of procs) await p.stop('SIGKILL').catch(() => {})
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

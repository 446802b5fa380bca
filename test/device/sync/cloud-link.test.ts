// The device's cloud link against a real cloud (aedes, LevelDB, Fastify) and a real outbox.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { CloudLink } from '../../../device/sync/index.js'
import type { CloudLinkOptions } from '../../../device/sync/index.js'
import { LevelOutboxStore } from '../../../device/store/index.js'
import { startCloud } from '../../helpers/cloud.js'
import { linkOptions as sharedOptions } from '../../helpers/cloud-link.js'
import type { CloudFixture } from '../../helpers/cloud.js'
import { freePort } from '../../helpers/brokers.js'

async function until (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

function linkOptions (f: { url: string }, store: LevelOutboxStore, secret: string, extra: Partial<CloudLinkOptions> = {}): CloudLinkOptions {
  return sharedOptions(f.url, store, secret, extra)
}

const seqsOf = async (f: CloudFixture, limit = 10_000): Promise<number[]> =>
  (await f.api<{ records: Array<{ seq: number }> }>('GET', `/v1/devices/gh-01/records?after=0&limit=${limit}`)).body.records.map((r) => r.seq)

test('[W4] 10,000 records made while the cloud is down arrive exactly once and in order when it comes up', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-link-'))
  const store = await LevelOutboxStore.open({ dir })
  const port = await freePort()
  // The cloud is set up first (for the secret), then stopped: the device starts while it is down.
  const f = await startCloud({ port })
  const secret = await f.addDevice('gh-01')
  await f.cloud.close()
  const link = await CloudLink.start(linkOptions({ url: `mqtt://127.0.0.1:${port}` }, store, secret))
  try {
    for (let i = 0; i < 100; i++) {
      await store.commit({ records: Array.from({ length: 100 }, (_, j) => ({ kind: 'result' as const, fn: 'f', time: 1, data: { n: i * 100 + j + 1 } })) })
    }
    assert.is(link.state === 'online', false)
    await f.restart()
    link.notify()
    await until('all acked', async () => (await store.stats()).count === 0)
    const seqs = await seqsOf(f)
    assert.is(seqs.length, 10_000)
    assert.ok(seqs.every((s, i) => s === i + 1), 'in order, none missing, none twice')
    const dev = (await f.api<{ highWater: number, counts: { stored: number } }>('GET', '/v1/devices/gh-01')).body
    assert.is(dev.highWater, 10_000)
    assert.is(dev.counts.stored, 10_000)
  } finally {
    await link.close()
    await store.close()
    await f.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('[W4] quota drops show up as counted gaps; excluded logs as gaps; status says online then offline [W3]', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-link-'))
  const store = await LevelOutboxStore.open({ dir, quotaBytes: 4096 })
  const f = await startCloud()
  const secret = await f.addDevice('gh-01')
  let link: CloudLink | undefined
  try {
    for (let i = 0; i < 60; i++) await store.commit({ records: [{ kind: 'result', fn: 'f', time: 1, data: 'x'.repeat(200) }, { kind: 'log', fn: 'f', time: 1, data: 'l' }] })
    const kept = await store.read({ limit: 1000 })
    assert.ok(kept.length < 120, 'the quota dropped some')
    // Seqs after the last kept record are not declared until a newer record exists (a higher
    // seq may be a commit still in flight), so the cloud's high-water is the last kept seq.
    const lastKept = kept[kept.length - 1].seq
    link = await CloudLink.start(linkOptions({ url: f.cloud.broker.url }, store, secret, { uploadLogs: false }))
    await until('all acked', async () => (await store.stats()).count === 0)
    const dev = (await f.api<{ state: string, highWater: number, counts: { gaps: number, gapSeqs: number, stored: number } }>('GET', '/v1/devices/gh-01')).body
    assert.is(dev.state, 'online')
    assert.is(dev.highWater, lastKept)
    assert.ok(dev.counts.gaps > 0)
    assert.is(dev.counts.stored + dev.counts.gapSeqs, lastKept)
    assert.is(dev.counts.stored, kept.filter((r) => r.kind !== 'log').length)
    const gaps = (await f.api<{ records: Array<{ kind: string }> }>('GET', '/v1/devices/gh-01/records?kind=log')).body.records
    assert.is(gaps.length, 0, 'no log was uploaded')
    await link.close()
    link = undefined
    await until('offline', async () => (await f.api<{ state: string }>('GET', '/v1/devices/gh-01')).body.state === 'offline')
  } finally {
    await link?.close()
    await store.close()
    await f.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('over TLS: the link verifies the cloud against its CA file and uploads; without the CA it refuses to connect', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-tls-'))
  const cert = path.join(dir, 'cert.pem')
  const key = path.join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
  const store = await LevelOutboxStore.open({ dir: path.join(dir, 'data') })
  const f = await startCloud({ tls: { port: 0, certFile: cert, keyFile: key } })
  const secret = await f.addDevice('gh-01')
  const url = `mqtts://127.0.0.1:${String(f.cloud.broker.tlsPort)}`
  const lines: string[] = []
  const untrusting = await CloudLink.start(linkOptions({ url }, store, secret, { log: (l) => lines.push(l) }))
  let link: CloudLink | undefined
  try {
    await until('a refused handshake', () => lines.some((l) => /certificate/i.test(l)))
    assert.is.not(untrusting.state, 'online')
    await untrusting.close()
    await store.commit({ records: [{ kind: 'result', fn: 'f', time: 1, data: 'over tls' }] })
    link = await CloudLink.start(linkOptions({ url }, store, secret, { ca: readFileSync(cert) }))
    await until('acked', async () => (await store.stats()).count === 0)
    assert.equal((await seqsOf(f)), [1])
  } finally {
    await untrusting.close()
    await link?.close()
    await store.close()
    await f.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a daily byte cap holds records in the outbox; nothing is lost', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-link-'))
  const store = await LevelOutboxStore.open({ dir })
  const f = await startCloud()
  const secret = await f.addDevice('gh-01')
  const link = await CloudLink.start(linkOptions({ url: f.cloud.broker.url }, store, secret, { dailyUploadBytes: 3000, batchRecords: 5 }))
  try {
    for (let i = 0; i < 40; i++) await store.commit({ records: [{ kind: 'result', fn: 'f', time: 1, data: 'y'.repeat(100) }] })
    link.notify()
    await until('some uploaded', async () => (await seqsOf(f)).length > 0)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const uploaded = (await seqsOf(f)).length
    assert.ok(uploaded < 40, `the cap stopped uploads (${uploaded})`)
    assert.ok(link.sentToday <= 3000)
    assert.is((await store.stats()).count, 40 - uploaded, 'what was not uploaded waits in the outbox')
  } finally {
    await link.close()
    await store.close()
    await f.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a wrong secret keeps the link retrying without throwing; the agent side never waits', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-link-'))
  const store = await LevelOutboxStore.open({ dir })
  const f = await startCloud()
  await f.addDevice('gh-01')
  const lines: string[] = []
  const link = await CloudLink.start(linkOptions({ url: f.cloud.broker.url }, store, 'wrong', { log: (l) => lines.push(l) }))
  try {
    await store.commit({ records: [{ kind: 'result', fn: 'f', time: 1, data: 1 }] })
    await until('refused twice', () => ((f.cloud.broker.refused['bad-credentials']) >= 2))
    assert.is.not(link.state, 'online')
    assert.is((await store.stats()).count, 1)
    assert.ok(lines.filter((l) => /Not authorized|Bad username/i.test(l)).length <= 1, 'the same error is logged once')
  } finally {
    await link.close()
    await store.close()
    await f.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()

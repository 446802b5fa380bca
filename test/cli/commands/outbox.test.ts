// `lambkin outbox`: what an operator sees of a stopped agent's buffer, and the exit codes.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LevelOutboxStore } from '../../../device/store/index.js'
import { outboxCommand } from '../../../cli/commands/outbox.js'
import { PREVIEW_CHARS } from '../../../cli/outbox-preview.js'

async function run (args: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await outboxCommand(args, { stdout: (s) => { out += s }, stderr: (s) => { err += s } })
  return { code, out, err }
}

async function withStore (fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-'))
  try {
    const st = await LevelOutboxStore.open({ dir, quotaBytes: 1024 })
    await st.commit({
      records: [
        { kind: 'result', fn: 'thermo', time: Date.UTC(2024, 0, 2, 3, 4, 5), data: { temp: 21.5, note: 'y'.repeat(80) } },
        { kind: 'log', fn: 'thermo', time: Date.UTC(2024, 0, 2, 3, 4, 6), data: 'hello' },
        { kind: 'emit', time: Date.UTC(2024, 0, 2, 3, 4, 7), data: new Uint8Array([1, 2, 3]) }
      ]
    })
    // Logs past the quota: the oldest logs (first of all 'hello') drop, and the summary counts them.
    await st.commit({ records: Array.from({ length: 10 }, () => ({ kind: 'log' as const, fn: 'chatty', time: 0, data: 'z'.repeat(100) })) })
    await st.close()
    await fn(dir)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

test('prints buffered records as a table in seq order with a summary line', async () => {
  await withStore(async (dir) => {
    const { code, out, err } = await run(['--data', dir])
    assert.is(code, 0, err)
    const lines = out.trimEnd().split('\n')
    assert.match(lines[0], /^SEQ\s+KIND\s+FN\s+TIME\s+BYTES\s+DATA$/)
    const row1 = lines[1].split(/\s{2,}/)
    assert.equal(row1.slice(0, 4), ['1', 'result', 'thermo', '2024-01-02T03:04:05.000Z'])
    assert.ok(row1[5].startsWith('{"temp":21.5,"note":"yyy') && row1[5].endsWith('…') && row1[5].length === PREVIEW_CHARS, row1[5])
    assert.ok(!out.includes('\n2 log'), 'the dropped log is not shown')
    assert.match(out, /\n3\s+emit\s+-\s+2024-01-02T03:04:07.000Z\s+\d+\s+<3 bytes>\n/)
    const seqs = lines.slice(1, -1).map((l) => Number(l.split(/\s+/)[0]))
    assert.equal(seqs, [...seqs].sort((a, b) => a - b))
    assert.match(lines[lines.length - 1], /^\d+ records, \d+ bytes; dropped: log \d+; expired: 0; last seq 13; 0 publishes pending \(0 bytes\)$/)
  })
})

test('--json prints one object with records and stats; --kind and --limit narrow it', async () => {
  await withStore(async (dir) => {
    const { code, out } = await run(['--data', dir, '--json'])
    assert.is(code, 0)
    const j = JSON.parse(out) as { records: Array<{ seq: number, kind: string, data: unknown }>, stats: { lastSeq: number, dropped: { log: number } } }
    assert.is(j.stats.lastSeq, 13)
    assert.ok(j.stats.dropped.log >= 1)
    assert.equal(j.records.slice(0, 2).map((r) => [r.seq, r.kind]), [[1, 'result'], [3, 'emit']])
    assert.equal(j.records[1].data, { base64: 'AQID' }, 'bytes become base64')
    const logs = JSON.parse((await run(['--data', dir, '--json', '--kind', 'log', '--limit', '2'])).out) as typeof j
    assert.is(logs.records.length, 2)
    assert.ok(logs.records.every((r) => r.kind === 'log'))
    const both = JSON.parse((await run(['--data', dir, '--json', '--kind', 'result', '--kind', 'emit'])).out) as typeof j
    assert.equal(both.records.map((r) => r.seq), [1, 3])
  })
})

test('bad usage exits 2 with a usage line', async () => {
  for (const args of [['--data'], ['--data', '/x', '--limit', 'ten'], ['--data', '/x', '--limit', '0'], ['--data', '/x', '--kind', 'nope'], ['--data', '/x', '--bogus'], ['--data', '/x', 'extra']]) {
    const r = await run(args)
    assert.is(r.code, 2, args.join(' '))
    assert.match(r.err, /^LAMBKIN_USAGE: /)
    assert.match(r.err, /usage: lambkin outbox \[--data <dir>\]/)
    assert.is(r.out, '')
  }
})

test('exits 1 with CODE: message when there is no store or an agent holds it', async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-'))
  try {
    const r = await run(['--data', empty])
    assert.is(r.code, 1)
    assert.match(r.err, /^LAMBKIN_STORE_ERROR: there is no outbox store in /)
    assert.is(fs.readdirSync(empty).length, 0, 'looking created nothing')
    // No --data: the agent's own default, relative to where it runs.
    const cwd = process.cwd()
    process.chdir(empty)
    try {
      const d = await run([])
      assert.is(d.code, 1)
      assert.match(d.err, `there is no outbox store in ${path.join(fs.realpathSync(empty), '.lambkin', 'data')}`)
    } finally { process.chdir(cwd) }
    assert.is(fs.readdirSync(empty).length, 0)
  } finally { fs.rmSync(empty, { recursive: true, force: true }) }
  await withStore(async (dir) => {
    const agent = await LevelOutboxStore.open({ dir })
    try {
      const r = await run(['--data', dir])
      assert.is(r.code, 1)
      // No agent-http.json: nothing to read it through, and the error says how to get one.
      assert.match(r.err, /^LAMBKIN_STORE_ERROR: the outbox store in .* is locked by a running agent .*restart that agent with --metrics-port <n>.*or stop the agent to read the store directly/)
    } finally { await agent.close() }
  })
})

test.run()

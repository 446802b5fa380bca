// A card that filled up while the agent was stopped: LevelDB writes on every open (a new log, a
// compaction of the old one), so neither the agent nor `lambkin outbox` can open the store. Both
// must say the disk is full, not "check that the directory is writable and not damaged": the
// usual answer to a damaged store is to move the folder aside (docs/durability.md), which would
// strand every record in it. Once there is room, both read it whole. Real `lambkin` processes on
// a real tmpfs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { mountTmpfs } from '../helpers/tmpfs.js'
import { runLambkin, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'

test('a store on a card that filled while the agent was stopped: the agent and lambkin outbox say the disk is full; with room again every record is there', async () => {
  const disk = mountTmpfs(2 * 1024 * 1024)
  if ('skip' in disk) { console.log(`skipped: ${disk.skip}`); return }
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-full-open-'))
  try {
    const functions = writeFunctions(path.join(root, 'functions'), {
      tick: { manifest: { triggers: [{ schedule: '* * * * * *' }] }, code: 'export default (e) => e.source' }
    })
    const data = path.join(disk.dir, 'data')
    const args = ['device', '--id', 'full-card', '--data', data, '--functions', functions]
    const agent = startLambkin(args)
    await agent.waitFor('stderr', /(?:\[tick\] ok[^]*){2}/)
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null }, agent.stderr())
    const before = await runLambkin(['outbox', '--data', data, '--json'])
    assert.is(before.code, 0, before.stderr)
    const kept = (JSON.parse(before.stdout) as { records: Array<{ seq: number, kind: string }> }).records.filter((r) => r.kind === 'result')
    assert.ok(kept.length >= 2)

    disk.fill()
    const outbox = await runLambkin(['outbox', '--data', data])
    assert.is(outbox.code, 1, outbox.stderr)
    assert.match(outbox.stderr, /^LAMBKIN_STORE_ERROR: cannot open the outbox store in \S+: the disk holding it is full \(.*No space left on device\).*Nothing in it is lost: free some space/m)
    assert.not.match(outbox.stderr, /damaged/)
    const start = await runLambkin(args)
    assert.is(start.code, 1, start.stderr)
    assert.match(start.stderr, /LAMBKIN_STORE_ERROR: .*the disk holding it is full/)
    assert.not.match(start.stderr, /damaged/)

    disk.free()
    const after = await runLambkin(['outbox', '--data', data, '--json'])
    assert.is(after.code, 0, after.stderr)
    const seqs = (JSON.parse(after.stdout) as { records: Array<{ seq: number, kind: string }> }).records.filter((r) => r.kind === 'result').map((r) => r.seq)
    assert.equal(seqs, kept.map((r) => r.seq), 'every result recorded before the disk filled is still there')
  } finally {
    disk.unmount()
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

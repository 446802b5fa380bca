// The soak's power cuts (docs/architecture.md, "Durability"; streams [W4]): the agent's and the
// cloud's data folders are copied with `cp -r` while the load runs, and fresh `lambkin device`
// and `lambkin cloud` processes start on the copies. A copy of a folder being written is what a
// power cut leaves (a LevelDB log that may end in a torn write, files as of their last write).
// Each cut copies one side while it writes and the other held still (SIGSTOP), so the pair is
// one moment of both, as a cut of the power to both would be: copying the cloud later than the
// agent would give the cloud records the agent's copy never wrote, which no power cut can.
// The fresh pair opens, keeps the old stream, and the cloud ends up with every result that
// was committed a sync interval before the cut, on seqs 1, 2, 3... with no conflict.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DEVICE_DEFAULTS } from '../../device/config/defaults.js'
import { Load, Outputs, Soak, figuresLine, until } from '../helpers/soak.js'
import type { SoakRecord } from '../helpers/soak.js'

/** The most a power cut may take back of what the agent committed (outbox.syncIntervalMs). */
const SYNC_MS = DEVICE_DEFAULTS.outbox.syncIntervalMs

interface Cut { name: string, agentCopy: string, cloudCopy: string, committedBefore: number[], copyCodes: string }

test('power cut: folders copied while they write; fresh processes on the copies open, lose nothing older than a sync interval, and keep one stream', async () => {
  const s = await Soak.create()
  const load = new Load(s.brokerUrl, { ratePerSec: 30 })
  const outputs = new Outputs(s.brokerUrl)
  try {
    await s.startAgent()
    await outputs.ready()
    load.start()
    await until('100 results of the load in the cloud', async () => (await s.records(undefined, 'work')).length >= 100)
    const stream = (await s.device()).stream
    assert.ok(stream !== null)

    // A work result is committed before its done/ publish leaves, so a done/ seen SYNC_MS
    // before the cut names a result the cut may not take back.
    const committedBefore = (t: number): number[] => outputs.done.filter((d) => d.at < t - SYNC_MS).map((d) => d.id)
    const cuts: Cut[] = []
    const cut = async (name: string, live: 'agent' | 'cloud'): Promise<void> => {
      const held = live === 'agent' ? s.cloud : s.agent
      s.pause(held, true)
      try {
        const at = Date.now()
        const first = live === 'agent' ? await s.copyData(s.agentData, `${name}-agent`) : await s.copyData(s.cloudData, `${name}-cloud`)
        const second = live === 'agent' ? await s.copyData(s.cloudData, `${name}-cloud`) : await s.copyData(s.agentData, `${name}-agent`)
        const [agentCopy, cloudCopy] = live === 'agent' ? [first, second] : [second, first]
        cuts.push({ name, agentCopy: agentCopy.dir, cloudCopy: cloudCopy.dir, committedBefore: committedBefore(at), copyCodes: `${String(first.code)} ${first.stderr}; ${String(second.code)} ${second.stderr}` })
      } finally {
        s.pause(held, false)
      }
    }
    await cut('agent-writing', 'agent')
    await until('100 more results in the cloud', async () => (await s.records(undefined, 'work')).length >= 200)
    await cut('cloud-writing', 'cloud')
    await s.stopAgent('SIGKILL')
    await s.stopCloud('SIGKILL')

    for (const c of cuts) {
      assert.ok(c.committedBefore.length >= 50, `${c.name}: the cut landed under load (${c.committedBefore.length} results committed before it)`)
      await s.startCloud(c.cloudCopy)
      await s.startAgent(c.agentCopy)
      const want = new Set(c.committedBefore)
      let records: SoakRecord[] = []
      const missing = (): number[] => {
        const have = new Set(records.filter((r) => r.kind === 'result' && r.fn === 'work').map((r) => (r.data.result as { id: number }).id))
        return [...want].filter((id) => !have.has(id))
      }
      await until(() => `${c.name}: the fresh cloud to hold every result committed a sync interval before the cut (missing ${missing().slice(0, 20).join(', ')}; cp said ${c.copyCodes})`, async () => {
        records = await s.records(stream)
        return missing().length === 0
      })
      const device = await s.device()
      console.log(figuresLine(`soak power cut (${c.name})`, s.figures(records, load.sent)))
      assert.is(device.stream, stream, `${c.name}: the copy goes on with the stream it had [W4]`)
      assert.is(device.streams, 1, `${c.name}: no new stream`)
      assert.is(device.conflict, null, `${c.name}: no seq came back with other bytes [W4]`)
      const off = records.findIndex((r, i) => r.seq !== i + 1)
      assert.is(off, -1, `${c.name}: seqs run 1, 2, 3... (first off at position ${off + 1}: seq ${records[off]?.seq})`)
      assert.equal(await s.stopAgent('SIGTERM'), { code: 0, signal: null })
      assert.equal(await s.stopCloud('SIGTERM'), { code: 0, signal: null })
    }
  } finally {
    await load.close()
    await outputs.close()
    await s.cleanup()
  }
})

test.run()

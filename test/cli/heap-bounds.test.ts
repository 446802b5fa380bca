// cli/heap-bounds.ts: when the agent bounds its own heap, and that V8 honours the young
// generation's cap set after start, also across a worker thread's start (which resets it).
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { wantsHeapBounds, YOUNG_GENERATION_CAP_BYTES } from '../../cli/heap-bounds.js'

const want = (arch: string, env: Record<string, string> = {}, execArgv: string[] = []): boolean => wantsHeapBounds({ arch, env, execArgv })

test('under Node\'s defaults (the "node" profile) the bounds are on; under the board profile off', () => {
  assert.ok(want('x64'))
  assert.ok(want('arm64', { LAMBKIN_MEMORY: 'node' }))
  assert.not.ok(want('arm64'))
  assert.not.ok(want('x64', { LAMBKIN_MEMORY: 'small' }))
  assert.not.ok(want('x64', { LAMBKIN_MEMORY: 'tiny' }))
})

test('a V8 flag of theirs the user gave Node turns them off', () => {
  assert.not.ok(want('x64', {}, ['--max-semi-space-size=32']))
  assert.not.ok(want('x64', { NODE_OPTIONS: '--heap_growing_percent=50' }))
  assert.not.ok(want('x64', {}, ['--semi-space-growth-factor=4']))
  assert.ok(want('x64', { NODE_OPTIONS: '--max-old-space-size=512' }, ['--no-warnings']))
})

const MODULE = fileURLToPath(new URL('../../cli/heap-bounds.js', import.meta.url))

/**
 * In a Node of its own: allocates in turns of the event loop, keeping a sliding window of what it
 * made (so much survives and V8 grows the young generation), starts a worker thread midway, and
 * prints the largest young generation seen, in bytes. Bounded, the first turn may grow it to
 * the cap at once (no GC is reported to JavaScript within a turn), so the cap is checked, not less.
 */
async function youngPeak (bounded: boolean): Promise<number> {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8'
    import { Worker } from 'node:worker_threads'
    import { startHeapBounds } from ${JSON.stringify(MODULE)}
    const stop = ${bounded} ? startHeapBounds() : () => {}
    const keep = []
    let peak = 0
    let turn = 0
    const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size
    function step () {
      for (let j = 0; j < 20000; j++) { keep.push({ j, s: 'x' + j + turn, a: [j] }); if (keep.length > 150000) keep.splice(0, 50000) }
      peak = Math.max(peak, young())
      // Nothing allocated while the worker starts: the cap must hold from when it is online.
      if (++turn === 60) new Worker('setTimeout(() => {}, 50)', { eval: true }).once('online', () => setImmediate(step))
      else if (turn < 300) setImmediate(step)
      else { stop(); process.stdout.write(String(peak)) }
    }
    step()
  `
  const { stdout, stderr } = await new Promise<{ stdout: string, stderr: string }>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], (err, stdout, stderr) => { if (err !== null) reject(err); else resolve({ stdout, stderr }) })
  })
  const peak = Number(stdout.trim())
  if (!(peak > 0)) throw new Error(`the child printed ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)}`)
  return peak
}

test('the young generation stops at its cap, a worker thread\'s start notwithstanding; unbounded it grows past', async () => {
  const unbounded = await youngPeak(false)
  assert.ok(unbounded > YOUNG_GENERATION_CAP_BYTES, `unbounded peak ${unbounded}: the load must make V8 grow the young generation past the cap`)
  const bounded = await youngPeak(true)
  assert.ok(bounded <= YOUNG_GENERATION_CAP_BYTES, `bounded peak ${bounded} > ${YOUNG_GENERATION_CAP_BYTES}`)
})

test.run()

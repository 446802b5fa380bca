// cli/heap-bounds.ts: when the agent bounds its own heap's growth, and that V8 honours the
// growth factor set after start.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { wantsHeapBounds } from '../../cli/heap-bounds.js'

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
 * In a Node of its own: allocates in turns of the event loop, keeping a sliding window of about
 * 300,000 small objects alive (so V8 keeps collecting with much surviving), and prints the largest
 * old space seen, in bytes. V8's own growth factor lets it reach about twice what survives.
 */
async function oldPeak (bounded: boolean): Promise<number> {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8'
    import { startHeapBounds } from ${JSON.stringify(MODULE)}
    if (${bounded}) startHeapBounds()
    const keep = []
    let peak = 0
    let turn = 0
    const old = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size
    function step () {
      for (let j = 0; j < 20000; j++) { keep.push({ j, s: 'x' + j + turn, a: [j] }); if (keep.length > 300000) keep.splice(0, 50000) }
      peak = Math.max(peak, old())
      if (++turn < 300) setImmediate(step)
      else process.stdout.write(String(peak))
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

test('set after start, the growth bound holds the old space well under what V8 grows it to on its own', async () => {
  const unbounded = await oldPeak(false)
  const bounded = await oldPeak(true)
  // Measured: about 195-205 MiB on its own, 85-90 bounded.
  assert.ok(bounded < unbounded * 0.75, `bounded old space ${bounded} bytes, on its own ${unbounded}`)
})

test.run()

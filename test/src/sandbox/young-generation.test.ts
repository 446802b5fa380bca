// The sandbox threads' young generation (src/sandbox/pool.ts): a Node started with a larger
// `--max-semi-space-size` (2, say; the small-RAM profile's is 1) gives its sandbox threads 1 MiB semi-spaces,
// and its main thread keeps what it was started with.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { givenSemiSpaceMiB } from '../../../src/sandbox/pool.js'

test('the semi-space size Node was given: the last one, on the command line or in NODE_OPTIONS', () => {
  assert.is(givenSemiSpaceMiB([]), undefined)
  assert.is(givenSemiSpaceMiB(['--max-old-space-size=64']), undefined)
  assert.is(givenSemiSpaceMiB(['--max-semi-space-size=2']), 2)
  assert.is(givenSemiSpaceMiB(['--max_semi_space_size=8']), 8)
  assert.is(givenSemiSpaceMiB([], '--no-warnings --max-semi-space-size=4'), 4)
  // The command line comes after NODE_OPTIONS, so it wins.
  assert.is(givenSemiSpaceMiB(['--max-semi-space-size=1'], '--max-semi-space-size=4'), 1)
  assert.is(givenSemiSpaceMiB(['--max-semi-space-size']), undefined)
})

const MODULE = fileURLToPath(new URL('../../../src/sandbox/pool.js', import.meta.url))

/** In a Node started with `flags`: heap size limits (bytes) of the main thread and of a worker made before and after the bound. */
async function limits (flags: string[]): Promise<{ main0: number, main1: number, before: number, after: number, applied: boolean }> {
  const script = `
    import { Worker } from 'node:worker_threads'
    import { getHeapStatistics } from 'node:v8'
    import { boundSandboxYoungGeneration } from ${JSON.stringify(MODULE)}
    const limit = () => new Promise((resolve) => {
      const w = new Worker("import { parentPort } from 'node:worker_threads'; import { getHeapStatistics } from 'node:v8'; parentPort.postMessage(getHeapStatistics().heap_size_limit)", { eval: true })
      w.once('message', (m) => { resolve(m); void w.terminate() })
    })
    const main0 = getHeapStatistics().heap_size_limit
    const before = await limit()
    const applied = boundSandboxYoungGeneration(process.execArgv, '')
    const after = await limit()
    process.stdout.write(JSON.stringify({ main0, main1: getHeapStatistics().heap_size_limit, before, after, applied }))
  `
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [...flags, '--input-type=module', '-e', script], (err, out) => { if (err !== null) reject(err); else resolve(out) })
  })
  return JSON.parse(stdout) as { main0: number, main1: number, before: number, after: number, applied: boolean }
}

test('given 2 MiB semi-spaces, threads made after the bound get 1 MiB ones and the main thread keeps its own', async () => {
  const r = await limits(['--max-semi-space-size=2'])
  assert.ok(r.applied)
  // V8 counts three semi-spaces' worth of young generation in the limit: 3 MiB less.
  assert.is(r.before - r.after, 3 * 1024 * 1024)
  assert.is(r.main1, r.main0)
})

test('Node given no semi-space size, or 1 MiB: nothing is changed', async () => {
  for (const flags of [[], ['--max-semi-space-size=1']]) {
    const r = await limits(flags)
    assert.not.ok(r.applied)
    assert.is(r.after, r.before)
  }
})

test.run()

// An agent that refuses to start (LAMBKIN_NO_FUNCTIONS_LOADED: nothing loaded, no cloud) leaves
// nothing running: its sandbox threads end with it, so the process that asked can exit.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const helpers = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'agent.js')

test('a refused start closes its sandbox pool: the process exits by itself', async () => {
  const script = `import { fixture } from ${JSON.stringify(helpers)}
const f = fixture({ broken: { code: 'export default (' } })
try { await f.start() } catch (err) { console.log(err.code) }`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr.on('data', (c: Buffer) => { out += c.toString() })
  const exited = await new Promise<number | null | 'still running'>((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve('still running') }, 30_000)
    child.on('exit', (code) => { clearTimeout(timer); resolve(code) })
  })
  assert.match(out, /LAMBKIN_NO_FUNCTIONS_LOADED/)
  assert.is(exited, 0, `the process was left running by the refused start: ${out}`)
})

test.run()

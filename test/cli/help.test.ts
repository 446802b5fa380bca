// Every command answers --help with exit 0 and its usage, and refuses an unknown option with
// exit 2 and LAMBKIN_USAGE (docs/architecture.md, "Command line").
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { COMMAND_NAMES, main } from '../../cli/index.js'

async function run (argv: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await main(argv, { stdout: (s) => { out += s }, stderr: (s) => { err += s } })
  return { code, out, err }
}

test('lambkin <every command> --help exits 0 with its usage', async () => {
  assert.ok(COMMAND_NAMES.length >= 11)
  for (const name of COMMAND_NAMES) {
    const r = await run([name, '--help'])
    assert.is(r.code, 0, `${name}: ${r.err}`)
    assert.match(r.out, `lambkin ${name}`, name)
  }
})

test('an unknown option exits 2 with LAMBKIN_USAGE and that command\'s usage', async () => {
  for (const name of COMMAND_NAMES) {
    const r = await run([name, '--no-such-option'])
    assert.is(r.code, 2, name)
    assert.match(r.err, /^LAMBKIN_USAGE: /, name)
    assert.match(r.err.toLowerCase(), `lambkin ${name}`, name)
  }
})

test('lambkin --help lists every command; an unknown command exits 2', async () => {
  const help = await run(['--help'])
  assert.is(help.code, 0)
  for (const name of COMMAND_NAMES) assert.match(help.out, `lambkin ${name}`)
  assert.is((await run(['frobnicate'])).code, 2)
})

test.run()

// Every command answers --help with exit 0 and its usage, and refuses an unknown option with
// exit 2 and LAMBKIN_USAGE (docs/architecture.md, "Command line").
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { COMMAND_NAMES, main, USAGE } from '../../cli/index.js'

const BIN = fileURLToPath(new URL('../../cli/bin.js', import.meta.url))

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

test('a name of Object.prototype is an unknown command: exit 2 and LAMBKIN_USAGE, not LAMBKIN_INTERNAL', () => {
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    const r = spawnSync(process.execPath, [BIN, name], { encoding: 'utf8', timeout: 60_000 })
    assert.is(r.status, 2, `${name}: ${r.stderr}`)
    assert.match(r.stderr, `LAMBKIN_USAGE: unknown command "${name}"`, name)
  }
})

test('a mistyped subcommand (lambkin devices remove gh-01) is an unknown command, not "too many arguments"', () => {
  for (const argv of [['devices', 'remove', 'gh-01'], ['rollout', 'show', 'r1'], ['keys', 'gen'], ['devices', 'constructor']]) {
    const r = spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8', timeout: 60_000 })
    assert.is(r.status, 2, `${argv.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, `LAMBKIN_USAGE: unknown command '${argv[1]}'`, argv.join(' '))
    assert.match(r.stderr, `lambkin ${argv[0]}`, argv.join(' '))
  }
})

test('a stray word after a subcommand names the whole command, not just its last word (rollout status is not lambkin status)', () => {
  for (const [argv, name] of [[['rollout', 'status', 'r1', 'x4'], 'lambkin rollout status'], [['devices', 'add', 'gh-01', 'x4'], 'lambkin devices add'], [['keys', 'generate', 'x4'], 'lambkin keys generate'], [['broker', 'dynsec-init', 'x4'], 'lambkin broker dynsec-init'], [['cloud', 'x4'], 'lambkin cloud']] as const) {
    const r = spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8', timeout: 60_000 })
    assert.is(r.status, 2, `${argv.join(' ')}: ${r.stderr}`)
    assert.ok(r.stderr.startsWith(`LAMBKIN_USAGE: too many arguments for '${name}': unexpected 'x4' (it takes `), `${argv.join(' ')}: ${r.stderr}`)
  }
})

test('a stray word after any command (lambkin cloud constructor) is named as too many arguments, before a missing required option', () => {
  // Words past every argument a command takes: Object.prototype's names and plain ones.
  const words = ['constructor', '__proto__', 'toString', 'x4', 'x5']
  for (const argv of [...COMMAND_NAMES.map((n) => [n]), ['cloud', 'migrate'], ['devices', 'add', 'gh-01'], ['keys', 'generate'], ['broker', 'dynsec-init']]) {
    const r = spawnSync(process.execPath, [BIN, ...argv, ...words], { encoding: 'utf8', timeout: 60_000 })
    const line = r.stderr.split('\n')[0]
    assert.is(r.status, 2, `${argv.join(' ')}: ${r.stderr}`)
    assert.not.match(line, /required option/, `${argv.join(' ')}: ${line}`)
    assert.match(line, /^LAMBKIN_USAGE: (unknown command 'constructor'|too many arguments for '[a-z -]+': unexpected '(constructor|__proto__|toString|x4)')/, `${argv.join(' ')}: ${line}`)
  }
  // An unknown option comes before a missing one too, and a missing one is still named.
  const typo = spawnSync(process.execPath, [BIN, 'cloud', '--dat', 'x'], { encoding: 'utf8', timeout: 60_000 })
  assert.match(typo.stderr, /^LAMBKIN_USAGE: unknown option '--dat'/)
  const none = spawnSync(process.execPath, [BIN, 'deploy', 'fn-dir'], { encoding: 'utf8', timeout: 60_000 })
  assert.equal([none.status, none.stderr.split('\n')[0]], [2, "LAMBKIN_USAGE: required option '--to <target>' not specified"])
})

test('lambkin --version prints the package version; lambkin devices help prints the devices help', () => {
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  for (const flag of ['--version', '-V', 'version']) {
    const r = spawnSync(process.execPath, [BIN, flag], { encoding: 'utf8', timeout: 60_000 })
    assert.is(r.status, 0, `${flag}: ${r.stderr}`)
    assert.is(r.stdout, `lambkin ${version}\n`, flag)
  }
  for (const name of ['devices', 'rollout']) {
    const r = spawnSync(process.execPath, [BIN, name, 'help'], { encoding: 'utf8', timeout: 60_000 })
    assert.is(r.status, 0, `${name} help: ${r.stderr}`)
    assert.match(r.stdout, `Usage: lambkin ${name}`, name)
  }
})

test('lambkin --help gives a value placeholder to every option of device and cloud that takes one', async () => {
  for (const name of ['device', 'cloud']) {
    const help = (await run([name, '--help'])).out
    // The synopsis lines of this command in USAGE, up to the next command.
    const synopsis = USAGE.split(`  lambkin ${name} `)[1].split('\n  lambkin ')[0]
    for (const [, flag] of synopsis.matchAll(/\[(--[a-z-]+)\]/g)) {
      const listed = new RegExp(`^\\s+(?:-\\w, )?${flag}(?: (\\S+))?`, 'm').exec(help)
      assert.ok(listed !== null, `${name}: ${flag} is not in its --help`)
      assert.not.match(listed[1] ?? '', /^</, `${name}: ${flag} takes a value, but lambkin --help shows none`)
    }
  }
})

test('no option\'s help ends in commander\'s "(default: [])"', async () => {
  for (const name of COMMAND_NAMES) assert.not.match((await run([name, '--help'])).out, '(default: [])', name)
})

test.run()

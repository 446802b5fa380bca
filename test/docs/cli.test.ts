// `lambkin --help` names every command and subcommand there is, and docs/cli.md matches it: it
// quotes the root help word for word and has an entry (a heading or a table row) for each.
// Subcommands are found by asking each command's own --help, so a new one cannot hide.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { COMMAND_NAMES, main, USAGE } from '../../cli/index.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const CLI_DOC = readFileSync(path.join(ROOT, 'docs/cli.md'), 'utf8')

async function run (argv: string[]): Promise<{ code: number, out: string }> {
  let out = ''
  const code = await main(argv, { stdout: (s) => { out += s }, stderr: () => {} })
  return { code, out }
}

/**
 * Every command path, `lambkin <command>` and `lambkin <command> <subcommand>`: subcommands
 * are those commander lists under "Commands:" in the command's --help, and the words its help
 * names as `lambkin <command> <word>` whose --help starts with their own usage line (`cloud
 * migrate` and `device install-service` are dispatched by hand).
 */
async function commandPaths (): Promise<string[]> {
  const paths: string[] = []
  for (const name of COMMAND_NAMES) {
    paths.push(`lambkin ${name}`)
    const help = (await run([name, '--help'])).out
    const listed = [...(help.split('\nCommands:\n')[1] ?? '').matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1] as string)
    // Help text is wrapped to the terminal: a name may break across lines.
    const named = [...help.replace(/\s+/g, ' ').matchAll(new RegExp(`lambkin ${name} ([a-z][a-z-]+)`, 'g'))].map((m) => m[1] as string)
    for (const sub of new Set([...listed, ...named])) {
      if (sub === 'help') continue
      const r = await run([name, sub, '--help'])
      if (r.code === 0 && new RegExp(`^Usage: lambkin ${name} ${sub} `).test(r.out)) paths.push(`lambkin ${name} ${sub}`)
    }
  }
  return paths
}

test('the command paths include the subcommands (the finder is not blind)', async () => {
  const paths = await commandPaths()
  for (const p of ['lambkin devices rotate', 'lambkin devices add', 'lambkin devices revoke', 'lambkin keys generate', 'lambkin rollout cancel', 'lambkin cloud migrate', 'lambkin device install-service']) {
    assert.ok(paths.includes(p), `${p} not found among ${paths.join(', ')}`)
  }
})

test('lambkin --help names every command and subcommand', async () => {
  const help = (await run(['--help'])).out
  const missing = (await commandPaths()).filter((p) => !new RegExp(`^ {2}${p}(?: |$)`, 'm').test(help))
  assert.equal(missing, [], `lambkin --help does not list: ${missing.join(', ')}`)
})

test('docs/cli.md quotes lambkin --help word for word', () => {
  assert.ok(CLI_DOC.includes('```\n' + USAGE.trimEnd() + '\n```\n'), 'docs/cli.md\'s "lambkin --help" block differs from cli/index.ts USAGE: paste it again')
})

test('docs/cli.md has a heading or a table row for every command and subcommand', async () => {
  const entries = CLI_DOC.split('\n').filter((l) => l.startsWith('#') || l.startsWith('|')).map((l) => l.replace(/`/g, ''))
  const missing = (await commandPaths()).filter((p) => !entries.some((l) => new RegExp(`${p}(?![\\w-])`).test(l)))
  assert.equal(missing, [], `docs/cli.md has no entry for: ${missing.join(', ')}`)
})

test.run()

// `lambkin invoke --json` prints what docs/cli.md documents: each example it gives is
// run as written, and the output has the documented keys, value types, answer and exit code.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const BIN = path.join(ROOT, 'dist', 'cli', 'bin.js')
const CLI_DOC = readFileSync(path.join(ROOT, 'docs/cli.md'), 'utf8')

/** docs/cli.md's `invoke ... --json` examples: the command and the JSON block after it. */
function examples (): Array<{ args: string[], doc: Record<string, unknown> }> {
  const start = CLI_DOC.indexOf('\n## `lambkin invoke`')
  assert.ok(start >= 0, 'docs/cli.md has no `lambkin invoke` section')
  const section = CLI_DOC.slice(start, CLI_DOC.indexOf('\n## ', start + 1))
  return [...section.matchAll(/`invoke ([^`]+ --json)`:\s*```json\n([\s\S]*?)\n```/g)].map((m) => ({
    // Shell words: single-quoted strings or runs of non-blanks.
    args: ['invoke', ...((m[1] as string).match(/'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^'(.*)'$/, '$1'))],
    doc: JSON.parse(m[2] as string) as Record<string, unknown>
  }))
}

/** Keys and value types, recursively; arrays by their first element when they have one. */
function shape (v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? 'array' : ['array of', shape(v[0])]
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]))
  }
  return v === null ? 'null' : typeof v
}

test('docs/cli.md documents a success, a failure and a call that never ran', () => {
  const oks = examples().map((e) => e.doc.ok)
  assert.equal(oks, [true, false, false])
})

test('each documented --json example prints the documented shape', () => {
  for (const { args, doc } of examples()) {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    const what = args.join(' ')
    assert.is(r.status, doc.ok === true ? 0 : 1, `${what}: ${r.stderr}`)
    assert.is(r.stdout.trimEnd().split('\n').length, 1, `${what}: one line on stdout`)
    const out = JSON.parse(r.stdout) as Record<string, unknown>
    assert.equal(shape(out), shape(doc), what)
    assert.equal(out.result, doc.result, `${what}: result`)
    assert.equal((out.error as { code?: string } | undefined)?.code, (doc.error as { code?: string } | undefined)?.code, `${what}: error code`)
  }
})

test('a handler that returns nothing gives "result": null, as docs/cli.md says', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-json-'))
  try {
    writeFileSync(path.join(dir, 'function.json'), '{"name":"quiet"}')
    writeFileSync(path.join(dir, 'index.js'), 'export default (e, ctx) => { ctx.state.n = 1 }')
    const r = spawnSync(process.execPath, [BIN, 'invoke', dir, '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    assert.is(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout) as Record<string, unknown>
    assert.is(out.result, null, r.stdout)
    assert.is(out.stateChanged, true)
    assert.equal(out.state, { n: 1 }, 'state is there when it changed')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()

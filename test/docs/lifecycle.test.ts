// docs/lifecycle.md is a map of files and functions: every `path/file.ts` it names exists,
// every function, class and constant it names is defined in the source, each numbered step's
// first function is defined in that step's first file, it carries no figures of its own (they
// stand beside their constants), and a newcomer finds where a trigger is acknowledged and
// where an uploaded record is deleted.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const DOC = readFileSync(path.join(ROOT, 'docs/lifecycle.md'), 'utf8')

const FILE = /^[\w.-]+(?:\/[\w.-]+)+\.ts$/
/** `fn()`, `Class.method()`, `Class#private()`, `Class.property`, `CONSTANT`, `CONSTANT.key`, `ClassName`. */
const NAME = /^(?:[A-Za-z_$][\w$]*(?:[.#][A-Za-z_$][\w$]*)?\(\)|[A-Z][A-Za-z0-9_]*(?:[.#][A-Za-z_$][\w$]*)?)$/

/** The doc cut into its list items and paragraphs, each with the files and names it cites in backticks. */
function blocks (text: string): Array<{ text: string, step: boolean, files: string[], names: string[] }> {
  const out: Array<{ text: string, step: boolean, files: string[], names: string[] }> = []
  let cur: string[] = []
  const flush = (): void => {
    if (cur.length === 0) return
    const t = cur.join('\n')
    const ticks = [...t.matchAll(/`([^`\n]+)`/g)].map((m) => m[1])
    out.push({ text: t, step: /^\d+\. /.test(t), files: ticks.filter((x) => FILE.test(x)), names: ticks.filter((x) => !FILE.test(x) && NAME.test(x)) })
    cur = []
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '' || /^(\d+\.|-) /.test(line) || line.startsWith('#')) flush()
    if (line.trim() !== '' && !line.startsWith('#')) cur.push(line)
  }
  flush()
  return out
}

function sources (dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name)
    if (name === 'node_modules' || name === 'dist') continue
    if (statSync(p).isDirectory()) sources(p, out)
    else if (p.endsWith('.ts')) out.push(p)
  }
  return out
}

const escape = (s: string): string => s.replace(/[$]/g, '\\$')

/** Whether `source` defines `name` as written in the doc (see NAME). */
function defines (source: string, name: string): boolean {
  const bare = name.replace(/\(\)$/, '')
  const [owner, member] = bare.split(/(?=[.#])/)
  const top = new RegExp(`(?:function\\*?|class|interface|type|const|let|enum)\\s+${escape(owner)}\\b`)
  if (member === undefined) {
    return top.test(source) || new RegExp(`^\\s+(?:(?:public|protected|static|async|get|readonly)\\s+)*${escape(owner)}\\s*[(=:<]`, 'm').test(source)
  }
  if (!top.test(source)) return false
  // A constant's key (`BATCH_LIMITS.maxBytes`) or a class member (`Class.method`, `Class#method`).
  const key = member.slice(1)
  const prefix = member.startsWith('#') ? '#' : ''
  return new RegExp(`^\\s+(?:(?:public|protected|static|async|get|readonly|override)\\s+)*${prefix}${escape(key)}\\s*[(=:<?]|[{,]\\s*${escape(key)}\\s*:`, 'm').test(source)
}

const ALL = ['src', 'device', 'cloud-sync', 'cli'].flatMap((d) => sources(path.join(ROOT, d)))
const TEXT = new Map(ALL.map((f) => [path.relative(ROOT, f), readFileSync(f, 'utf8')]))
const BLOCKS = blocks(DOC)

test('the doc cites files and names (the parser found them)', () => {
  const files = new Set(BLOCKS.flatMap((b) => b.files))
  const names = new Set(BLOCKS.flatMap((b) => b.names))
  assert.ok(files.size > 30, `only ${files.size} files`)
  assert.ok(names.size > 60, `only ${names.size} names`)
  assert.ok(BLOCKS.filter((b) => b.step).length >= 30, 'numbered steps')
})

test('every file the doc names exists', () => {
  const missing = [...new Set(BLOCKS.flatMap((b) => b.files))].filter((f) => !existsSync(path.join(ROOT, f)))
  assert.equal(missing, [])
})

test('every function, class and constant the doc names is defined in the source', () => {
  const missing = [...new Set(BLOCKS.flatMap((b) => b.names))].filter((n) => ![...TEXT.values()].some((s) => defines(s, n)))
  assert.equal(missing, [])
})

test('each numbered step\'s first function is defined in the step\'s first file', () => {
  const wrong = BLOCKS.filter((b) => b.step && b.files.length > 0 && b.names.length > 0)
    .filter((b) => !defines(TEXT.get(b.files[0]) ?? '', b.names[0]))
    .map((b) => `${b.files[0]}: ${b.names[0]}`)
  assert.equal(wrong, [])
})

test('the checks can fail: a name or a file that is not there is caught', () => {
  const source = TEXT.get('device/store/level-store.ts') ?? ''
  assert.ok(defines(source, 'LevelOutboxStore._ackThrough()'))
  assert.ok(defines(source, 'LevelOutboxStore#armSyncTimer()'))
  assert.ok(defines(TEXT.get('src/mqtt/ack-hold.ts') ?? '', 'MAX_HELD'))
  assert.not.ok(defines(source, 'LevelOutboxStore.armSyncTimer()'), 'a private method is not public')
  assert.not.ok(defines(source, 'LevelOutboxStore.nothingLikeThis()'))
  assert.not.ok(defines(source, 'holdAcksGone()'))
  assert.equal(blocks('1. `device/nowhere.ts` `gone()`: x').map((b) => [b.files, b.names]), [[['device/nowhere.ts'], ['gone()']]])
})

test('no figures of its own: windows, backoffs and caps are named by their constants', () => {
  const figures = DOC.match(/\b\d[\d_,.]*\s?(?:ms|s|seconds?|minutes?|KiB|MiB|bytes|records|batches|messages|%)\b/g) ?? []
  assert.equal(figures, [])
})

test('a newcomer finds the file that acknowledges a trigger and the one that deletes an uploaded record', () => {
  const acks = BLOCKS.find((b) => b.step && /PUBACK\s+leaves here/.test(b.text))
  assert.ok(acks, 'a step where the PUBACK leaves')
  assert.is(acks?.files[0], 'src/mqtt/ack-hold.ts')
  const deletes = BLOCKS.find((b) => b.step && /deletes the uploaded records/.test(b.text))
  assert.ok(deletes, 'a step where the outbox deletes')
  assert.is(deletes?.files[0], 'device/store/level-store.ts')
  const commit = BLOCKS.find((b) => b.step && /the cloud's\s+commit/.test(b.text))
  assert.is(commit?.files[0], 'cloud-sync/registry/level-registry.ts')
})

test.run()

// The README says what the code does: its error table lists exactly the codes in
// src/errors.ts, and the files it (and docs/) links to exist.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ErrorCodes } from '../../src/errors.js'

/** The repository root, from dist/test/docs/. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8')

/** The text of a `## title` section, up to the next `## ` heading. */
function section (markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`)
  assert.ok(start >= 0, `the README has no "## ${title}" section`)
  const end = markdown.indexOf('\n## ', start + 1)
  return markdown.slice(start, end < 0 ? undefined : end)
}

/** The first cell of each table row, without its backquotes. */
function firstCells (text: string): string[] {
  return text.split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .map((l) => (l.split('|')[1] ?? '').trim().replace(/`/g, ''))
}

test('the error codes table lists every code in src/errors.ts, and only those', () => {
  const listed = firstCells(section(README, 'Error codes')).filter((c) => c.startsWith('LAMBKIN_'))
  const codes: string[] = Object.values(ErrorCodes)
  const missing = codes.filter((c) => !listed.includes(c))
  const unknown = listed.filter((c) => !codes.includes(c))
  assert.equal(missing, [], `codes with no row in the README's "Error codes" table: ${missing.join(', ')}`)
  assert.equal(unknown, [], `rows for codes that src/errors.ts does not have: ${unknown.join(', ')}`)
  const twice = listed.filter((c, i) => listed.indexOf(c) !== i)
  assert.equal(twice, [], `codes listed twice: ${twice.join(', ')}`)
})

/** Relative link targets in a markdown text, without their #fragments. */
function relativeLinks (markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => (m[1] as string).split('#')[0] as string)
    .filter((t) => t !== '' && !/^[a-z]+:/i.test(t))
}

test('every file the README and docs/ link to exists', () => {
  const docs = readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f))
  for (const file of ['README.md', ...docs]) {
    const text = readFileSync(path.join(ROOT, file), 'utf8')
    for (const target of relativeLinks(text)) {
      assert.ok(existsSync(path.join(ROOT, path.dirname(file), target)), `${file} links to ${target}, which does not exist`)
    }
  }
})

/** Every .ts file under dir, skipping installed and generated folders. */
function sources (dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'peers' || e.name === 'dist' || e.name.startsWith('.')) continue
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...sources(p))
    else if (e.name.endsWith('.ts')) out.push(p)
  }
  return out
}

test('every markdown file the code cites exists (docs/architecture.md, not a DESIGN.md kept elsewhere)', () => {
  const dirs = ['src', 'device', 'cloud-sync', 'cli', 'test', 'bench'].map((d) => path.join(ROOT, d)).filter((d) => existsSync(d))
  const broken: string[] = []
  for (const file of dirs.flatMap(sources)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?<![\w/.-])((?:docs\/)?[\w-]+\.md)\b/g)) {
      // This file names the missing one on purpose, in the test's title.
      if (file.endsWith(path.join('test', 'docs', 'readme.test.ts'))) continue
      if (!existsSync(path.join(ROOT, m[1] as string))) broken.push(`${path.relative(ROOT, file)} cites ${m[1] as string}`)
    }
  }
  assert.equal(broken, [], broken.join('\n'))
})

test('every markdown file the README and docs/ name exists', () => {
  const docs = readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f))
  const broken: string[] = []
  for (const file of ['README.md', ...docs]) {
    for (const m of readFileSync(path.join(ROOT, file), 'utf8').matchAll(/(?<![\w/.-])((?:docs\/)?[\w-]+\.md)\b/g)) {
      const name = m[1] as string
      if (!existsSync(path.join(ROOT, name)) && !existsSync(path.join(ROOT, path.dirname(file), name))) broken.push(`${file} names ${name}`)
    }
  }
  assert.equal(broken, [], broken.join('\n'))
})

test.run()

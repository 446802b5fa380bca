// The docs say what the code does: docs/errors.md lists exactly the codes in src/errors.ts,
// and every markdown file the code, the README and docs/ name exists. (Links and anchors:
// links.test.ts.)
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ErrorCodes } from '../../src/errors.js'

/** The repository root, from dist/test/docs/. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const ERRORS_DOC = readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8')

/** The first cell of each table row, without its backquotes. */
function firstCells (text: string): string[] {
  return text.split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .map((l) => (l.split('|')[1] ?? '').trim().replace(/`/g, ''))
}

test('docs/errors.md lists every code in src/errors.ts, and only those', () => {
  const listed = firstCells(ERRORS_DOC).filter((c) => c.startsWith('LAMBKIN_'))
  const codes: string[] = Object.values(ErrorCodes)
  const missing = codes.filter((c) => !listed.includes(c))
  const unknown = listed.filter((c) => !codes.includes(c))
  assert.equal(missing, [], `codes with no row in docs/errors.md: ${missing.join(', ')}`)
  assert.equal(unknown, [], `rows for codes that src/errors.ts does not have: ${unknown.join(', ')}`)
  const twice = listed.filter((c, i) => listed.indexOf(c) !== i)
  assert.equal(twice, [], `codes listed twice: ${twice.join(', ')}`)
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
      // This file names the missing one on purpose, in the test's title; links.test.ts's
      // fixtures are pages that exist only in the test.
      if (file.endsWith(path.join('test', 'docs', 'readme.test.ts')) || file.endsWith(path.join('test', 'docs', 'links.test.ts'))) continue
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

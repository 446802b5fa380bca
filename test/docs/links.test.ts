// The manual holds together: every relative link in README.md and docs/*.md leads to a file
// that exists and, when it names a #fragment in a markdown file, to a heading there (GitHub's
// anchors); and the README stays a short page for users (the reference lives in docs/).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root, from dist/test/docs/. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** The README's ceiling, in lines: past it, move the text to a page under docs/. */
const README_MAX_LINES = 600

/** README.md and every docs/*.md, relative to ROOT. */
const PAGES = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f))]

/** The text outside fenced code blocks (a link-like string in a code sample is not a link). */
function prose (markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '')
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
function slug (heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
}

/** The anchors a markdown text's headings get; a repeated one gets -1, -2... as on GitHub. */
function anchors (markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const m of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = slug(m[1] as string)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

/** Relative link targets in a markdown text (`[text](target)` and images), as written. */
function relativeLinks (markdown: string): string[] {
  return [...prose(markdown).replace(/`[^`\n]*`(?!\])/g, '').matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] as string)
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t))
}

/** What is wrong with one page's links: missing files and missing anchors. */
function brokenLinks (file: string, markdown: string, read: (p: string) => string | undefined): string[] {
  const broken: string[] = []
  for (const link of relativeLinks(markdown)) {
    const [target = '', fragment] = link.split('#') as [string, string | undefined]
    const resolved = target === '' ? file : path.join(path.dirname(file), decodeURI(target))
    const text = read(resolved)
    if (text === undefined) { broken.push(`${file} links to ${link}: no file ${resolved}`); continue }
    if (fragment !== undefined && fragment !== '' && resolved.endsWith('.md') && !anchors(text).has(decodeURIComponent(fragment))) {
      broken.push(`${file} links to ${link}: ${resolved} has no heading with the anchor #${fragment}`)
    }
  }
  return broken
}

/** A file's text relative to ROOT ('' for a folder or a file that is not markdown), or undefined when absent. */
function readRepo (p: string): string | undefined {
  const abs = path.join(ROOT, p)
  if (!existsSync(abs)) return undefined
  return p.endsWith('.md') ? readFileSync(abs, 'utf8') : ''
}

test('GitHub anchors: backquotes and punctuation dropped, spaces made hyphens, repeats numbered', () => {
  assert.is(slug('`lambkin device install-service`'), 'lambkin-device-install-service')
  assert.is(slug("The cloud's signing key"), 'the-clouds-signing-key')
  assert.is(slug('On the way to the cloud: re-flashed and cloned cards'), 'on-the-way-to-the-cloud-re-flashed-and-cloned-cards')
  assert.is(slug('`lambkin logs <device> [fn] [-f]`'), 'lambkin-logs-device-fn--f')
  assert.equal([...anchors('# A\n\n## B\n\n```\n# not a heading\n```\n\n## B\n')], ['a', 'b', 'b-1'])
})

test('the checker finds a link to a missing file and one to a missing heading', () => {
  const pages: Record<string, string> = { 'docs/a.md': '# A\n\n## Here\n' }
  const read = (p: string): string | undefined => pages[p]
  assert.equal(brokenLinks('docs/b.md', '[ok](a.md#here) [self](#top) `[code](nope.md)`', (p) => p === 'docs/b.md' ? '# Top\n' : read(p)), [])
  assert.equal(brokenLinks('docs/b.md', '[x](gone.md) [y](a.md#there)', read).length, 2)
})

test('every relative link in README.md and docs/*.md resolves, anchors included', () => {
  const broken = PAGES.flatMap((file) => brokenLinks(file, readFileSync(path.join(ROOT, file), 'utf8'), readRepo))
  assert.equal(broken, [], broken.join('\n'))
})

/** The repository's top folders: a backquoted file path (with an extension) starting with one names a file of ours. */
const TOP = ['src', 'device', 'cloud-sync', 'cli', 'test', 'bench', 'scripts', 'examples', 'deploy', 'docs']

test('every repository path README.md and docs/*.md name in backquotes exists (a moved file is renamed there too)', () => {
  const missing: string[] = []
  for (const file of PAGES) {
    // Folders and topics (`bench/out`) are not checked, nor patterns (`NNNN_name.sql`).
    for (const m of readFileSync(path.join(ROOT, file), 'utf8').matchAll(/`((?:[\w.-]+\/)+[\w-]+\.[a-z]+)`/g)) {
      const p = m[1] as string
      if (!TOP.includes(p.split('/')[0] as string) || /NNNN/.test(p)) continue
      if (!existsSync(path.join(ROOT, p))) missing.push(`${file} names ${p}`)
    }
  }
  assert.equal(missing, [], missing.join('\n'))
})

test(`README.md stays at most ${README_MAX_LINES} lines (the reference lives in docs/)`, () => {
  const lines = readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n').length
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines; move reference text under docs/`)
})

test.run()

// No runtime import cycles among the project's own modules: a cycle makes load order decide
// which module sees the other half-initialised. Type-only imports vanish at build time and
// do not count. Scanned from the TypeScript sources, the way tsc resolves relative imports.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const LAYERS = ['src', 'device', 'cloud-sync', 'cli']
/** `import { a } from './x.js'` or `export { a } from './x.js'`, not `import type`/`export type`. */
const RUNTIME_IMPORT = /^(?:import|export)\s+(?!type\b)[^'";]*?from\s+'(\.[^']+)'|^import\s+'(\.[^']+)'/gm

function sources (dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name)
    if (name === 'node_modules' || name === 'dist') continue
    if (statSync(p).isDirectory()) sources(p, out)
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** The runtime import graph of `files` (path -> source): file -> the files it imports at run time. */
function importGraph (files: Map<string, string>): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const [file, text] of files) {
    const deps: string[] = []
    for (const m of text.matchAll(RUNTIME_IMPORT)) {
      const spec = (m[1] ?? m[2]).replace(/\.js$/, '.ts')
      const target = path.resolve(path.dirname(file), spec)
      if (files.has(target)) deps.push(target)
    }
    graph.set(file, deps)
  }
  return graph
}

/** Every cycle a depth-first walk meets, each as the files around it. */
function cycles (graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const found: string[][] = []
  const visit = (f: string): void => {
    state.set(f, 'open')
    stack.push(f)
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 'open') found.push([...stack.slice(stack.indexOf(d)), d])
      else if (!state.has(d)) visit(d)
    }
    stack.pop()
    state.set(f, 'done')
  }
  for (const f of graph.keys()) if (!state.has(f)) visit(f)
  return found
}

test('the scan finds a cycle, and ignores type-only imports', () => {
  const files = new Map([
    ['/p/a.ts', "import { b } from './b.js'\n"],
    ['/p/b.ts', "import { c } from './c.js'\nimport type { A } from './a.js'\n"],
    ['/p/c.ts', "export { a } from './a.js'\n"]
  ])
  assert.equal(cycles(importGraph(files)).map(c => c.map(f => path.basename(f))), [['a.ts', 'b.ts', 'c.ts', 'a.ts']])
  files.set('/p/c.ts', "export type { A } from './a.js'\n")
  assert.equal(cycles(importGraph(files)), [])
})

test('src, device, cloud-sync and cli have no runtime import cycle', () => {
  const files = new Map<string, string>()
  for (const layer of LAYERS) for (const f of sources(path.join(ROOT, layer))) files.set(f, readFileSync(f, 'utf8'))
  assert.ok(files.size > 100, `found only ${files.size} sources under ${ROOT}`)
  const found = cycles(importGraph(files)).map(c => c.map(f => path.relative(ROOT, f)).join(' -> '))
  assert.equal(found, [])
})

test.run()

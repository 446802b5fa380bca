#!/usr/bin/env node
// @ts-check
// Builds the fleet dashboard (cloud-sync/web/) into dist/cloud-sync/web/: esbuild bundles the
// page (Preact, signals, uPlot and its CSS) into content-hashed files under assets/, each with a
// gzipped twin, and writes index.html naming them. The operator API serves the folder
// (cloud-sync/api/static-files.ts); nothing is fetched from a CDN at run time.
// Runs after `tsc -b` in `npm run build`; prints one line.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import * as esbuild from 'esbuild'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const SRC = join(ROOT, 'cloud-sync', 'web')
const OUT = join(ROOT, 'dist', 'cloud-sync', 'web')

const started = Date.now()
rmSync(OUT, { recursive: true, force: true })
mkdirSync(join(OUT, 'assets'), { recursive: true })

const result = await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: [join(SRC, 'main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  // What browsers have had since 2020 (esbuild's per-browser tables refuse to lower some
  // destructuring for older Safari and Firefox, so the target is the language level).
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  outdir: join(OUT, 'assets'),
  metafile: true,
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning'
})

// Metafile paths are relative to absWorkingDir.
const outputs = Object.keys(result.metafile.outputs).map((p) => join(ROOT, p))
const js = outputs.filter((p) => p.endsWith('.js')).map((p) => basename(p))
const css = outputs.filter((p) => p.endsWith('.css')).map((p) => basename(p))
let gzJs = 0
for (const p of outputs) {
  const gz = gzipSync(readFileSync(p), { level: 9 })
  writeFileSync(`${p}.gz`, gz)
  if (p.endsWith('.js')) gzJs += gz.length
}

const template = readFileSync(join(SRC, 'index.html'), 'utf8')
const html = template
  .replace('<!-- styles -->', css.map((f) => `<link rel="stylesheet" href="./assets/${f}">`).join('\n    '))
  .replace('<!-- scripts -->', js.map((f) => `<script type="module" src="./assets/${f}"></script>`).join('\n    '))
writeFileSync(join(OUT, 'index.html'), html)
writeFileSync(join(OUT, 'index.html.gz'), gzipSync(html, { level: 9 }))

console.log(`dashboard built in ${Date.now() - started} ms: ${js.join(', ')} (${(gzJs / 1024).toFixed(1)} KiB gzipped), ${css.join(', ')} -> ${OUT}`)

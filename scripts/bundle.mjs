#!/usr/bin/env node
// The `lambkin` executable's bundle (docs/performance.md, "Where the bytes are"): after tsc,
// `npm run build` (and `npm start`'s build) joins what tsc wrote for the CLI (dist/cli/index.js)
// and the sandbox thread (dist/src/sandbox/worker.js) into a few minified files in
// dist/bundle/, which dist/cli/bin.js runs. V8 keeps every loaded module's source as a string
// (two bytes a character when one is outside Latin-1) beside its bytecode: minified, with
// non-ASCII escaped (esbuild's default charset), the agent's sources take about a third of the
// room. Each dynamic import() becomes a chunk of its own, so a command loads only its part.
//
// What stays out, loaded from node_modules as before: packages with native addons (level,
// classic-level, cbor-x's optional cbor-extract is found by cbor-x at run time), wasm
// (quickjs-emscripten and its variants), packages other files reach by path (mqtt and aedes,
// whose mqtt-packet src/mqtt changes in place) and the cloud's (fastify, pg). Every bundled
// module keeps its own `import.meta.url`: it is rewritten to the file's place under dist/ or
// node_modules/, so paths relative to it (SQL, dashboard assets, package.json, examples) mean
// what they meant; a URL to a module that is itself bundled here (the sandbox worker) points at
// its bundled file instead.
//
// Identifiers are not minified: stack traces keep function and class names. A source map
// (to dist/'s JavaScript) is written beside each file but not loaded unless Node runs with
// --enable-source-maps, which costs memory.
//
//   node scripts/bundle.mjs    (from the package root, after tsc -b)
import { existsSync } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const root = process.cwd()
const dist = path.join(root, 'dist')
const outdir = path.join(dist, 'bundle')
/** Entry name -> the file tsc wrote. */
const ENTRIES = {
  cli: path.join(dist, 'cli', 'index.js'),
  worker: path.join(dist, 'src', 'sandbox', 'worker.js')
}
/**
 * Packages left out of the bundle, loaded from node_modules/ at run time: native addons
 * (classic-level, cbor-extract), wasm and the files beside it (quickjs-emscripten and its
 * @jitl/ variants), mqtt-packet (src/mqtt changes the copy aedes and MQTT.js load, found by
 * path), and what only the cloud's commands load (fastify, pg).
 */
const EXTERNAL = [/^classic-level$/, /^cbor-extract$/, /^quickjs-emscripten/, /^@jitl\//, /^mqtt-packet$/, /^fastify$/, /^@fastify\//, /^pg/,
  // MQTT.js requires these only for ws:// URLs and SOCKS proxies: left where they are, an agent
  // that does not use them never loads their sources.
  /^ws$/, /^socks$/,
  // Loaded by mqtt-packet too: one copy, the one it loads.
  /^readable-stream$/, /^debug$/, /^bl$/]

const byFile = new Map(Object.entries(ENTRIES).map(([name, file]) => [file, `./${name}.js`]))
const posix = (p) => p.split(path.sep).join('/')
const fromOut = (file) => {
  const rel = posix(path.relative(outdir, file))
  return rel.startsWith('.') ? rel : `./${rel}`
}

/** Rewrites `import.meta.url` in one module so it keeps meaning that module's own file. */
function ownUrl (source, file) {
  const dir = path.dirname(file)
  const out = source.replace(/new URL\((['"])([^'"]+)\1,\s*import\.meta\.url\)/g, (whole, q, rel) => {
    if (/^[a-z]+:/i.test(rel)) return whole
    const target = path.resolve(dir, rel)
    const bundled = byFile.get(target)
    const to = bundled ?? fromOut(target) + (rel.endsWith('/') ? '/' : '')
    return `new URL(${JSON.stringify(to)}, import.meta.url)`
  })
  return out.replace(/import\.meta\.url/g, (m, at) =>
    // Already rewritten above (`new URL("...", import.meta.url)`): keep.
    /new URL\("[^"]*", $/.test(out.slice(Math.max(0, at - 300), at)) ? m : `new URL(${JSON.stringify(fromOut(file))}, import.meta.url).href`)
}

const packageOf = (spec) => spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]

const plugin = {
  name: 'lambkin-bundle',
  setup (b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('node:') || args.pluginData === 'own') return undefined
      if (!EXTERNAL.some((re) => re.test(packageOf(args.path)))) return undefined
      // The file the importer would have loaded, by its path from dist/bundle/: the same module
      // instance as any other copy of it Node loads from there.
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'own' })
      if (r.errors.length > 0) return { errors: r.errors }
      return { path: fromOut(r.path), external: true }
    })
    b.onLoad({ filter: /\.(c|m)?js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8')
      return { contents: source.includes('import.meta.url') ? ownUrl(source, args.path) : source, loader: 'js' }
    })
  }
}

/**
 * Builds dist/bundle/ from dist/; throws esbuild's errors. Does nothing (returns undefined)
 * where tsc wrote no CLI: a build of `src` alone, or another tree built with build.mjs.
 */
export async function bundle () {
  if (!Object.values(ENTRIES).every((f) => existsSync(f))) return undefined
  const { build } = await import('esbuild')
  const result = await build({
    entryPoints: Object.entries(ENTRIES).map(([out, input]) => ({ in: input, out })),
    outdir,
    // Written below, not by esbuild: a power cut mid-build must not leave a half file.
    write: false,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    chunkNames: '[name]-[hash]',
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'eof',
    logLevel: 'warning',
    // Paths under node_modules/ as the package sees them (a linked node_modules keeps its place).
    preserveSymlinks: true,
    // Bundled CommonJS (commander) calls require() for Node's modules; an ES module has none.
    banner: { js: 'import{createRequire as __lambkinRequire}from"node:module";const require=__lambkinRequire(import.meta.url);' },
    metafile: true,
    plugins: [plugin]
  })
  await writeAll(result.outputFiles)
  await prune(Object.keys(result.metafile.outputs).map((f) => path.basename(f)))
  return result
}

/** The files bin.js and the sandbox thread start from: written last, once all they import is in place. */
const ENTRY_FILES = new Set(Object.keys(ENTRIES).flatMap((n) => [`${n}.js`, `${n}.js.map`]))

/**
 * Writes esbuild's output with each file's bytes flushed (fsync) before a rename puts it in
 * place, the entries last: a power cut or a full disk mid-build leaves the previous bundle or
 * the new one, never a truncated chunk that bin.js would load (docs/performance.md, "What the
 * agent loads").
 */
async function writeAll (files) {
  await mkdir(outdir, { recursive: true })
  const ordered = [...files.filter((f) => !ENTRY_FILES.has(path.basename(f.path))), ...files.filter((f) => ENTRY_FILES.has(path.basename(f.path)))]
  for (const f of ordered) {
    const tmp = `${f.path}.${process.pid}.tmp`
    const fh = await open(tmp, 'w')
    try {
      await fh.writeFile(f.contents)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, f.path)
  }
  const dir = await open(outdir, 'r')
  try { await dir.sync() } finally { await dir.close() }
}

/**
 * Deletes what neither this build nor the one before wrote. Chunk names carry a hash of their
 * content, so a process started from the previous build (an agent running while `npm run
 * build` replaces dist/) still finds the chunks its later import()s name.
 */
async function prune (written) {
  const list = path.join(outdir, '.previous-build.json')
  let previous = []
  try { previous = JSON.parse(await readFile(list, 'utf8')) } catch {}
  const keep = new Set([...written, ...previous, path.basename(list)])
  for (const name of await readdir(outdir)) if (!keep.has(name)) await rm(path.join(outdir, name), { force: true })
  await writeFile(list, JSON.stringify(written))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  bundle().catch((err) => {
    process.stderr.write(`the bundle failed: ${err.message}\n`)
    process.exitCode = 1
  })
}

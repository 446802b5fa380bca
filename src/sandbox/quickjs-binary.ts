// Which QuickJS build the sandboxes run, and the one change made to its wasm binary before it
// is compiled: the memory it imports starts at what its static data and C stack need (about
// 5.2 MiB) plus HEAP_HEADROOM_PAGES, instead of the 16 MiB emscripten declared. V8 counts every
// wasm memory's length as external memory and forces a full, non-incremental GC each time they
// add up to 64 MiB more (Heap::ReportExternalMemoryPressure); at 16 MiB a sandbox that was every
// 4th cold start, a 10-100 ms pause in the worker. malloc grows the memory as QuickJS needs it,
// up to the cap.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, isAbsolute, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { QuickJSAsyncVariant, QuickJSSyncVariant } from 'quickjs-emscripten'
import { readMemoryLayout, withMemoryMinimum } from './wasm-layout.js'

/**
 * The build kept (see docs/functions.md, "Limits and how they are enforced"): bellard/quickjs, emscripten
 * release, no asyncify. quickjs-ng's release-sync was measured as well (bench/sandbox).
 */
export const DEFAULT_VARIANT = '@jitl/quickjs-wasmfile-release-sync'

/** What a worker needs to make instances; structured-cloneable, so it is posted as is. */
export interface QuickJSBinary {
  module: WebAssembly.Module
  /** The variant package name or folder (LAMBKIN_QUICKJS_VARIANT, default DEFAULT_VARIANT). */
  variant: string
  /** Pages a new instance's memory starts with: static data and C stack, rounded up, plus HEAP_HEADROOM_PAGES. */
  initialPages: number
}

/**
 * Pages of QuickJS heap a new memory starts with above its static data and C stack: enough for
 * a runtime, a context, the prelude and a small function's module (the heap's top reached 2.7
 * pages over the static size after the prelude). With one page, every instance grew its
 * memory once while being prepared (83 -> 100 pages, emscripten grows by a fifth); V8 accounts
 * a grown memory's whole length again as external memory until the next GC frees the old
 * buffer's record, so each instance counted 5.3 + 6.4 MiB toward the 64 MiB that forces a
 * full GC, against 5.4 now. Pages never touched take no RAM (docs/performance.md, "Where the
 * bytes are").
 */
export const HEAP_HEADROOM_PAGES = 4

/**
 * The variant to run: LAMBKIN_QUICKJS_VARIANT, an `@jitl/quickjs-*-sync` or `-asyncify`
 * package name (resolved beside quickjs-emscripten) or the absolute folder of one; for
 * measuring builds against each other. Only the default is held to test/src/sandbox.
 */
export function variantName (): string {
  const v = process.env.LAMBKIN_QUICKJS_VARIANT
  return v === undefined || v === '' ? DEFAULT_VARIANT : v
}

function packageDir (variant: string): string {
  if (isAbsolute(variant)) return variant
  const require = createRequire(createRequire(import.meta.url).resolve('quickjs-emscripten'))
  return dirname(require.resolve(`${variant}/package.json`))
}

/** Reads, resizes and compiles a variant's wasm; throws when the package is missing. */
export function compileBinary (variant: string = variantName()): QuickJSBinary {
  const bytes = readFileSync(join(packageDir(variant), 'dist', 'emscripten-module.wasm'))
  const layout = readMemoryLayout(bytes)
  const initialPages = Math.min(layout.minPages, layout.staticPages + HEAP_HEADROOM_PAGES)
  return { module: new WebAssembly.Module(withMemoryMinimum(bytes, initialPages)), variant, initialPages }
}

const loaded = new Map<string, Promise<QuickJSSyncVariant | QuickJSAsyncVariant>>()

/** The variant's JS glue (its FFI and emscripten loader), imported once per thread. */
export function loadVariant (variant: string): Promise<QuickJSSyncVariant | QuickJSAsyncVariant> {
  let p = loaded.get(variant)
  if (p === undefined) {
    const entry = pathToFileURL(join(packageDir(variant), 'dist', 'index.mjs')).href
    p = import(entry).then((m: { default: QuickJSSyncVariant | QuickJSAsyncVariant }) => m.default)
    loaded.set(variant, p)
  }
  return p
}

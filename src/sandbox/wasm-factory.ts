// Makes QuickJS wasm instances, each with its own WebAssembly.Memory whose `maximum` is the
// function's hard memory cap (docs/architecture.md, "Sandbox": QuickJS's own limit does not hold inside
// wasm, the Memory maximum does). The module is compiled once; spare instances are kept
// warm per cap so a cold start does not pay the instantiation.
import { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC } from 'quickjs-emscripten'
import type { QuickJSWASMModule } from 'quickjs-emscripten'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { MIN_MEMORY_PAGES, WASM_PAGE_BYTES } from './budget.js'

export interface WasmInstance {
  module: QuickJSWASMModule
  memory: WebAssembly.Memory
  maxBytes: number
  /** Work done ahead on a spare (see instance.ts prepare()), consumed by its first user. */
  prepared?: import('./instance.js').Prepared
}

let compiled: WebAssembly.Module | undefined

/** Compiles the QuickJS binary once per thread; the result can be posted to workers. */
export function compileQuickJS (): WebAssembly.Module {
  if (compiled === undefined) {
    const require = createRequire(import.meta.url)
    const variantDir = require.resolve('quickjs-emscripten')
    const wasmPath = createRequire(variantDir).resolve('@jitl/quickjs-wasmfile-release-sync/wasm')
    compiled = new WebAssembly.Module(readFileSync(wasmPath))
  }
  return compiled
}

export async function instantiate (wasmModule: WebAssembly.Module, pages: number): Promise<WasmInstance> {
  const maximum = Math.max(MIN_MEMORY_PAGES, pages)
  const memory = new WebAssembly.Memory({ initial: MIN_MEMORY_PAGES, maximum })
  const module = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmModule, wasmMemory: memory }))
  return { module, memory, maxBytes: maximum * WASM_PAGE_BYTES }
}

/** Keeps `spares` ready instances per memory cap that has been asked for. */
export class WasmFactory {
  readonly #module: WebAssembly.Module
  readonly #spares = new Map<number, WasmInstance[]>()
  readonly #target: number
  #refilling = false

  readonly #prepare: (w: WasmInstance) => WasmInstance['prepared']

  constructor (wasmModule: WebAssembly.Module, spares: number, prepare: (w: WasmInstance) => WasmInstance['prepared'] = () => undefined) {
    this.#module = wasmModule
    this.#target = spares
    this.#prepare = prepare
  }

  /** A ready instance for this cap: a warm spare when there is one. */
  async take (pages: number): Promise<{ instance: WasmInstance, spare: boolean }> {
    const key = Math.max(MIN_MEMORY_PAGES, pages)
    const list = this.#spares.get(key)
    const spare = list?.pop()
    if (list === undefined) this.#spares.set(key, [])
    if (spare !== undefined) return { instance: spare, spare: true }
    return { instance: await instantiate(this.#module, key), spare: false }
  }

  /** Tops every known cap back up to the target, one instance at a time. */
  async refill (isIdle: () => boolean): Promise<void> {
    if (this.#refilling) return
    this.#refilling = true
    try {
      for (const [pages, list] of this.#spares) {
        while (list.length < this.#target && isIdle()) {
          const spare = await instantiate(this.#module, pages)
          spare.prepared = this.#prepare(spare)
          list.push(spare)
        }
      }
    } catch {
      // Out of address space or memory: carry on without spares; a load reports the cause.
    } finally {
      this.#refilling = false
    }
  }

  /** Pre-creates spares for a cap, e.g. the default one at start-up. */
  async prime (pages: number): Promise<void> {
    const key = Math.max(MIN_MEMORY_PAGES, pages)
    if (!this.#spares.has(key)) this.#spares.set(key, [])
    await this.refill(() => true)
  }
}

// Makes QuickJS wasm instances, each with its own WebAssembly.Memory whose `maximum` is the
// function's hard memory cap (docs/architecture.md, "Sandbox": QuickJS's own limit does not hold inside
// wasm, the Memory maximum does). The module is compiled once per process and posted to the
// workers; spare instances are kept warm per cap so a cold start does not pay the
// instantiation, and they are made between calls in steps that each give the event loop back,
// so a load or call that arrives meanwhile waits for one step at most.
import { newQuickJSAsyncWASMModuleFromVariant, newQuickJSWASMModuleFromVariant, newVariant } from 'quickjs-emscripten'
import type { QuickJSWASMModule } from 'quickjs-emscripten'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { MIN_MEMORY_PAGES, WASM_PAGE_BYTES } from './budget.js'
import { compileBinary, loadVariant } from './quickjs-binary.js'
import type { QuickJSBinary } from './quickjs-binary.js'

export type { QuickJSBinary } from './quickjs-binary.js'

export interface WasmInstance {
  module: QuickJSWASMModule
  memory: WebAssembly.Memory
  maxBytes: number
  /** Work done ahead on a spare (see instance.ts prepare()), consumed by its first user. */
  prepared?: import('./instance.js').Prepared
}

let compiled: QuickJSBinary | undefined

/** Compiles the QuickJS binary once per thread; the result can be posted to workers. */
export function compileQuickJS (): QuickJSBinary {
  compiled ??= compileBinary()
  return compiled
}

/**
 * A fresh instance whose memory starts at the binary's static size and may grow to `pages`
 * (at least MIN_MEMORY_PAGES, 16 MiB) pages.
 */
export async function instantiate (binary: QuickJSBinary, pages: number): Promise<WasmInstance> {
  const maximum = Math.max(MIN_MEMORY_PAGES, pages)
  const memory = new WebAssembly.Memory({ initial: binary.initialPages, maximum })
  const base = await loadVariant(binary.variant)
  const options = { wasmModule: binary.module, wasmMemory: memory }
  // The asyncify builds are only there to be measured; their sync API is what runs here.
  const module = base.type === 'async'
    ? await newQuickJSAsyncWASMModuleFromVariant(newVariant(base, options))
    : await newQuickJSWASMModuleFromVariant(newVariant(base, options))
  return { module, memory, maxBytes: maximum * WASM_PAGE_BYTES }
}

/** Keeps `spares` ready instances per memory cap that has been asked for. */
export class WasmFactory {
  readonly #binary: QuickJSBinary
  readonly #spares = new Map<number, WasmInstance[]>()
  readonly #target: number
  #refilling = false

  readonly #prepare: (w: WasmInstance) => WasmInstance['prepared']
  #warm: ((w: WasmInstance) => unknown) | undefined

  /**
   * `prepare`: work done ahead on each spare (instance.ts prepare()); `warm`: run once by
   * prime() on its first spare, to compile the load and call path before the first load
   * (warm-up.ts warmUp()).
   */
  constructor (binary: QuickJSBinary, spares: number, prepare: (w: WasmInstance) => WasmInstance['prepared'] = () => undefined, warm?: (w: WasmInstance) => unknown) {
    this.#binary = binary
    this.#target = spares
    this.#prepare = prepare
    this.#warm = warm
  }

  /** Spare instances ready for this cap now. */
  spares (pages: number): number {
    return this.#spares.get(Math.max(MIN_MEMORY_PAGES, pages))?.length ?? 0
  }

  /** A ready instance for this cap: a warm spare when there is one. */
  async take (pages: number): Promise<{ instance: WasmInstance, spare: boolean }> {
    const key = Math.max(MIN_MEMORY_PAGES, pages)
    const list = this.#spares.get(key)
    const spare = list?.pop()
    if (list === undefined) this.#spares.set(key, [])
    if (spare !== undefined) return { instance: spare, spare: true }
    return { instance: await instantiate(this.#binary, key), spare: false }
  }

  /**
   * Tops every known cap back up to the target while `isIdle()` holds, one step at a time:
   * instantiate, then prepare, each after a turn of the event loop (which also lets V8 run its
   * incremental GC tasks, instead of one full pause when the memories add up).
   */
  async refill (isIdle: () => boolean): Promise<void> {
    if (this.#refilling) return
    this.#refilling = true
    try {
      for (const [pages, list] of this.#spares) {
        for (;;) {
          await nextTurn()
          if (!isIdle()) return
          // A spare instantiated by a refill that was cut short is prepared first; take()
          // hands out the oldest, prepared ones first.
          const bare = list.find((s) => s.prepared === undefined)
          if (bare !== undefined) {
            try {
              bare.prepared = this.#prepare(bare)
            } catch (err) {
              // Not kept: a spare that cannot be prepared would be tried again on every refill.
              list.splice(list.indexOf(bare), 1)
              throw err
            }
          } else if (list.length < this.#target) list.unshift(await instantiate(this.#binary, pages))
          else break
        }
      }
    } catch {
      // Out of address space or memory: carry on without spares; a load reports the cause.
    } finally {
      this.#refilling = false
    }
  }

  /**
   * Drops the spares of every cap not in `caps` (page counts) and stops keeping any for them:
   * a cap no loaded function has would hold its spares' memories for nothing. The dropped
   * instances are only unreferenced; V8 frees their memories when it collects them.
   */
  keepOnly (caps: ReadonlySet<number>): void {
    for (const pages of [...this.#spares.keys()]) if (!caps.has(pages)) this.#spares.delete(pages)
  }

  /** Pre-creates spares for a cap, e.g. the default one at start-up, then warms up once. */
  async prime (pages: number): Promise<void> {
    const key = Math.max(MIN_MEMORY_PAGES, pages)
    if (!this.#spares.has(key)) this.#spares.set(key, [])
    await this.refill(() => true)
    const first = this.#spares.get(key)?.[0]
    if (this.#warm !== undefined && first !== undefined) {
      this.#warm(first)
      this.#warm = undefined
    }
  }
}

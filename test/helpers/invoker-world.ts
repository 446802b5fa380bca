// An in-process invoker world for tests: a real QuickJS pool, a real LevelDB outbox store in a
// temp folder (or a folder the test names) and an Invoker on them, with each function loaded.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { SandboxPool, functionKey } from '../../src/sandbox/index.js'
import type { FunctionSpec, PoolOptions } from '../../src/sandbox/index.js'
import { validateManifest } from '../../src/function/index.js'
import { Invoker } from '../../device/invoke/invoker.js'
import type { InvokerOptions } from '../../device/invoke/invoker.js'
import { FunctionMetrics } from '../../device/metrics/index.js'
import { LevelOutboxStore } from '../../device/store/index.js'
import type { LevelStoreOptions, OutboxStore } from '../../device/store/index.js'
import { makeSpec } from './spec.js'

/** A function's source, or its source with the manifest fields it is registered with (`retry`, ...) and its sandbox limits. */
export type WorldFunction = string | { code: string, manifest?: Record<string, unknown>, limits?: Partial<FunctionSpec['limits']> }

export interface InvokerWorldOptions {
  /** Function name -> source; each is loaded into the pool and registered with the invoker. */
  functions: Record<string, WorldFunction>
  /** Store options (`quotaBytes`, `clock`, ...); `dir` given: the caller owns that folder, else a temp one removed by close(). */
  store?: Partial<LevelStoreOptions>
  /** What the invoker writes through: the real store wrapped (a fault injected); the real store by default. */
  wrapStore?: (store: LevelOutboxStore) => OutboxStore
  /** Pool options; default one worker. */
  pool?: Partial<PoolOptions>
  /** Invoker options over the defaults: maxConcurrent 4, queueDepth 10, no-op sleep and publish, no observers. */
  invoker?: Partial<Omit<InvokerOptions, 'pool' | 'store'>>
}

export interface InvokerWorld {
  pool: SandboxPool
  /** The real store (reads and stats go here, past any wrapStore fault). */
  store: LevelOutboxStore
  invoker: Invoker
  /** Function name -> its pool key (functionKey of its spec), for pool.stats(). */
  keys: Map<string, string>
  /** Closes the pool, then the store, then removes the temp folder (not a caller's `store.dir`). */
  close: () => Promise<void>
}

/** Starts an invoker world; on a failed start, what was started is closed again. */
export async function invokerWorld (opts: InvokerWorldOptions): Promise<InvokerWorld> {
  const owned = opts.store?.dir === undefined ? mkdtempSync(path.join(tmpdir(), 'lambkin-invoker-world-')) : undefined
  const removeDir = (): void => { if (owned !== undefined) rmSync(owned, { recursive: true, force: true }) }
  let store: LevelOutboxStore | undefined
  let pool: SandboxPool | undefined
  try {
    store = await LevelOutboxStore.open({ ...opts.store, dir: owned ?? opts.store?.dir as string })
    pool = await SandboxPool.create({ workers: 1, ...opts.pool })
    const invoker = new Invoker({
      metrics: new FunctionMetrics(),
      maxConcurrent: 4,
      queueDepth: 10,
      sleep: async () => {},
      now: Date.now,
      publish: () => {},
      observers: [],
      ...opts.invoker,
      pool,
      store: opts.wrapStore?.(store) ?? store
    })
    const keys = new Map<string, string>()
    for (const [name, fn] of Object.entries(opts.functions)) {
      const { code, manifest, limits } = typeof fn === 'string' ? { code: fn, manifest: {}, limits: {} } : fn
      const spec = makeSpec(code, { name, limits })
      await pool.load(spec)
      keys.set(name, functionKey(spec))
      invoker.register(validateManifest({ ...manifest, name }), functionKey(spec))
    }
    const [p, s] = [pool, store]
    return {
      pool: p,
      store: s,
      invoker,
      keys,
      close: async () => {
        try {
          await p.close()
          await s.close()
        } finally {
          removeDir()
        }
      }
    }
  } catch (err) {
    await pool?.close().catch(() => {})
    await store?.close().catch(() => {})
    removeDir()
    throw err
  }
}

/** 'ok' when `run` resolves, else the error's code (LAMBKIN_STORE_ERROR, ...). */
export async function outcome (run: Promise<unknown>): Promise<string | undefined> {
  return await run.then(() => 'ok', (e: { code?: string }) => e.code)
}

/** The `result` values of the store's result records, in store order. */
export async function storedResults<T> (store: LevelOutboxStore): Promise<T[]> {
  return (await store.read({ kinds: ['result'] })).map((r) => (r.data as { result: T }).result)
}

// The agent's local functions (Agent#loadFunctions in agent.ts): the functions folder loaded
// into a new sandbox pool. A broken folder is reported and skipped, never fatal; a device fed
// only by deployments needs no folder of its own.
import { existsSync } from 'node:fs'
import { errorMessage } from '../src/errors.js'
import { loadFunctionsDir } from '../src/function/index.js'
import type { LoadedFunction } from '../src/function/index.js'
import type { LogFn } from '../src/log-priority.js'
import { SandboxPool, specOf } from '../src/sandbox/index.js'
import type { DeviceConfig } from './config/index.js'
import { checkSomethingLoaded } from './nothing-loaded.js'

export interface LocalFunctions {
  pool: SandboxPool
  /** The functions loaded into the pool. */
  loaded: LoadedFunction[]
  /** Function folders that could not be loaded, by folder, with the line that said why. */
  loadErrors: Map<string, string>
}

/**
 * Loads the functions folder into a new pool. With a cloud configured, a missing folder means
 * "no local functions", not a reason to stop; otherwise checkSomethingLoaded decides whether
 * an agent with nothing to run may start (nothing-loaded.ts).
 */
export async function loadLocalFunctions (c: DeviceConfig, log: LogFn): Promise<LocalFunctions> {
  const { functions, errors } = c.cloud.url !== undefined && !existsSync(c.functionsDir)
    ? (log(`no functions folder at ${c.functionsDir}: running deployed functions only`), { functions: [], errors: [] })
    : await loadFunctionsDir(c.functionsDir, { layersDir: c.layersDir, caps: c.caps })
  const loadErrors = new Map<string, string>()
  // A syntax error's message carries its source line and a caret: each is a line of its own.
  for (const e of errors) for (const line of `function ${e.dir} not loaded: ${e.error.code}: ${e.error.message}`.split('\n')) log(line)
  for (const e of errors) loadErrors.set(e.dir, `function ${e.dir} not loaded: ${e.error.code}: ${e.error.message}`)
  const pool = await SandboxPool.create({ workers: c.invocation.workers, queueDepth: c.invocation.queueDepth, deviceId: c.id })
  const loaded: LoadedFunction[] = []
  try {
    for (const fn of functions) {
      try {
        await pool.load(specOf(fn))
        loaded.push(fn)
      } catch (err) {
        log(`function ${fn.manifest.name} not loaded: ${(err as { code?: string }).code ?? ''}: ${errorMessage(err)}`, 'err')
      }
    }
    const failed = errors.length + functions.length - loaded.length
    checkSomethingLoaded({ loaded: loaded.length, failed, cloud: c.cloud.url !== undefined, functionsDir: c.functionsDir, log })
  } catch (err) {
    // The start step fails before it could hand the pool to the scope: its threads end here.
    await pool.close()
    throw err
  }
  return { pool, loaded, loadErrors }
}

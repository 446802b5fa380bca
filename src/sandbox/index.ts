// Public surface of the sandbox: the pool, its options, the shapes of specs and outcomes.
import type { LoadedFunction } from '../function/index.js'
import type { FunctionSpec } from './types.js'

export { SandboxPool, functionKey } from './pool.js'
export { POOL_DEFAULTS, IO_CAP_DEFAULTS, resolvePoolOptions } from './options.js'
export type { PoolOptions } from './options.js'
export { INSTRUCTIONS_PER_POLL, MAX_SAFE_STACK_KIB, pollsFor, memoryPagesFor } from './budget.js'
export { isFault } from './quarantine.js'
export type * from './types.js'
export type { ZonedParts } from './time-zone.js'

/** The sandbox's view of a loaded function folder or bundle. */
export function specOf (fn: LoadedFunction, overrides: Partial<FunctionSpec['limits']> = {}): FunctionSpec {
  const m = fn.manifest
  return {
    name: m.name,
    version: fn.version,
    files: fn.files,
    layers: fn.layers,
    handler: m.handler,
    limits: { ...m.limits, ...overrides },
    env: { ...m.env },
    publish: [...m.permissions.publish],
    provisioned: m.provisioned
  }
}

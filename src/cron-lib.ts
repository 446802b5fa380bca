// node-cron, loaded on first use: both of its users (the manifest's schedule check and the
// schedule trigger's parser) run only for a function with a schedule, so an agent without one
// never loads it (docs/performance.md, "Where the bytes are"). Synchronous, as both callers
// are, through Node's require of node-cron's CommonJS build (same validators as its ES module).
import { createRequire } from 'node:module'
import type * as NodeCron from 'node-cron'

let lib: Pick<typeof NodeCron, 'validate' | 'validateDetailed'> | undefined

/** node-cron's validate() and validateDetailed(); throws when the package is missing. */
export function nodeCron (): Pick<typeof NodeCron, 'validate' | 'validateDetailed'> {
  lib ??= createRequire(import.meta.url)('node-cron') as typeof NodeCron
  return lib
}

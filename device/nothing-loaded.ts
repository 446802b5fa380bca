// What an agent does when none of its local functions loaded: without a cloud nothing could
// ever run, so it stops with LAMBKIN_NO_FUNCTIONS_LOADED rather than look healthy; with a
// cloud it runs on and says it waits for deployments.
import { ErrorCodes, LambkinError } from '../src/errors.js'

/**
 * @param failed function folders that failed to load (manifest, syntax or compile errors)
 * @throws LambkinError LAMBKIN_NO_FUNCTIONS_LOADED when none loaded, some failed, and there is no cloud
 */
export function checkSomethingLoaded (o: { loaded: number, failed: number, cloud: boolean, functionsDir: string, log: (line: string) => void }): void {
  if (o.loaded > 0) return
  if (o.cloud) {
    o.log(`no local function loaded${o.failed > 0 ? ` (${o.failed} failed, see above)` : ''}: waiting for deployments from the cloud`)
    return
  }
  if (o.failed === 0) return
  const them = o.failed === 1 ? 'it' : 'them'
  throw new LambkinError(ErrorCodes.NO_FUNCTIONS_LOADED, `none of the ${o.failed} function${o.failed === 1 ? '' : 's'} in ${o.functionsDir} loaded (each error is above); fix ${them} and start again, or give --cloud to run deployed functions`, { details: { functionsDir: o.functionsDir, failed: o.failed } })
}

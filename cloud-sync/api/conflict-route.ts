// POST /v1/devices/:id/clear-conflict (`lambkin devices clear-conflict`, the device page's
// "Clear the conflict"): the operator says a held stream conflict [W4] is dealt with (the clone
// has its own id, or the copied data folder is gone), so the device stops showing `conflict`.
// Nothing else changes: records, streams and their conflict counts stay. If both boards still
// run, the next batch the cloud refuses holds a new conflict and the device shows it again.
import type { FastifyInstance } from 'fastify'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import type { ConflictFacts, Registry } from '../registry/index.js'

export interface ConflictRouteOptions {
  registry: Pick<Registry, 'clearConflict'>
  /** Throws LAMBKIN_DEVICE_NOT_FOUND for an id that is not a registered device. */
  device: (id: string) => Promise<unknown>
}

/** The answer: the conflict that was held (null: none was), as the registry kept it. */
export interface ClearConflictAnswer { id: string, cleared: ConflictFacts | null }

export function registerConflictRoute (app: FastifyInstance, o: ConflictRouteOptions): void {
  app.post('/v1/devices/:id/clear-conflict', async (req): Promise<ClearConflictAnswer> => {
    const { id } = req.params as { id: string }
    await o.device(id)
    const r = await o.registry.clearConflict(id)
    if (r === undefined) throw new LambkinError(ErrorCodes.DEVICE_NOT_FOUND, `device ${id} was removed meanwhile; see lambkin devices`)
    return { id, cleared: r.cleared }
  })
}

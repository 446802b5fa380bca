// POST /v1/devices/:id/rotate (`lambkin devices rotate`): a leaked device secret is replaced
// and the old one stops working at once, keeping the device's id, records, history and
// deployments. The new secret is stored hashed (src/secrets.ts), then the device's live
// connection is closed: a client holding the old secret is cut, and its reconnect is refused.
import type { FastifyInstance } from 'fastify'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { GENERATED_SECRET_PARAMS, hashPassword, newSecret } from '../../src/secrets.js'
import type { Registry } from '../registry/index.js'
import { brokerLag } from '../broker/credentials.js'
import type { CredentialSink } from '../broker/credentials.js'

export interface RotateRouteOptions {
  registry: Pick<Registry, 'rotateSecret'>
  now: () => number
  /** Throws LAMBKIN_DEVICE_NOT_FOUND for an id that is not a registered device. */
  device: (id: string) => Promise<{ revokedAt?: number }>
  /** Gives the broker the new secret and closes the device's live connection (broker/credentials.ts). */
  credentials: Pick<CredentialSink, 'rotated'>
}

export function registerRotateRoute (app: FastifyInstance, o: RotateRouteOptions): void {
  app.post('/v1/devices/:id/rotate', async (req) => {
    const { id } = req.params as { id: string }
    if ((await o.device(id)).revokedAt !== undefined) throw new LambkinError(ErrorCodes.DEVICE_NOT_FOUND, `device ${id} is revoked, and revocation is final: add the board under a new id (lambkin devices add)`)
    const secret = newSecret()
    const row = await o.registry.rotateSecret(id, await hashPassword(secret, GENERATED_SECRET_PARAMS), o.now())
    if (row === undefined || row.revokedAt !== undefined) throw new LambkinError(ErrorCodes.DEVICE_NOT_FOUND, `device ${id} was removed or revoked meanwhile; see lambkin devices`)
    // After the write: a connect checked against the old hash from now on fails (cloud-broker.ts
    // re-reads it); an external broker is told the new secret and cuts the old one itself.
    await o.credentials.rotated(id, secret).catch((err: unknown) => {
      throw brokerLag(err, `device ${id}'s new secret is stored, but the broker did not take it (${errorMessage(err)}): there the old secret still works; run lambkin devices rotate ${id} again once the broker answers`)
    })
    return { id, secret, rotatedAt: row.rotatedAt ?? null }
  })
}

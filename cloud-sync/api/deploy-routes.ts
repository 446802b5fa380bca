// The operator API's deployment routes (docs/cloud.md, "The operator API"): bundle upload checked against the
// cloud's trusted keys, rollouts (start, list, follow with a long-poll, cancel), rollbacks, and
// remote invoke on a device. Codes map to HTTP statuses in server.ts.
import type { FastifyInstance } from 'fastify'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { isValidId } from '../../src/ids.js'
import { BUNDLE_MAX_BYTES, SHA256_PATTERN, readBundle, verifyBundle } from '../../src/bundle/index.js'
import type { TrustedKey } from '../../src/bundle/index.js'
import type { RemoteInvoker } from '../invoke/remote-invoke.js'
import type { Rollouts } from '../rollouts/engine.js'
import type { DeployRequest, RollbackRequest } from '../rollouts/types.js'
import type { Registry } from '../registry/index.js'
import { IO_CAP_DEFAULTS } from '../../src/sandbox/options.js'
import { resolveTargets } from '../rollouts/plan.js'
import { bad, base64Param, intParam } from './params.js'
import { dataProblem } from '../../src/wire/index.js'
import type { BodyLimitConfig } from './error-answers.js'

export interface DeployApi {
  registry: Registry
  engine: Rollouts
  invoker: RemoteInvoker
  /** Keys whose bundles this cloud takes (`lambkin cloud --trust`), by key id. */
  trustedKeys: ReadonlyMap<string, TrustedKey>
  now: () => number
}

/** POST /v1/bundles's body limit: a bundle at BUNDLE_MAX_BYTES in base64 (4/3) plus the JSON around it. */
export const BUNDLE_BODY_LIMIT = Math.ceil(BUNDLE_MAX_BYTES * 4 / 3) + 64 * 1024

/**
 * POST /v1/devices/:id/invoke's body limit: an event at the functions' event cap
 * (IO_CAP_DEFAULTS.eventBytes, 256 KiB) plus room for fn, timeoutMs and the JSON around it.
 */
export const INVOKE_BODY_LIMIT = IO_CAP_DEFAULTS.eventBytes + 16 * 1024

interface Helpers {
  /** Throws LAMBKIN_DEVICE_NOT_FOUND for an id that is not a registered device. */
  device: (id: string) => Promise<{ revokedAt?: number }>
  maxWaitMs: number
  closing: () => boolean
}

export function registerDeployRoutes (app: FastifyInstance, o: DeployApi, h: Helpers): void {
  app.post('/v1/bundles', { bodyLimit: BUNDLE_BODY_LIMIT }, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>
    if (typeof body.sha256 !== 'string' || !SHA256_PATTERN.test(body.sha256)) throw bad('sha256 must be 64 hex digits')
    if (typeof body.keyId !== 'string' || !/^[0-9a-f]{16}$/.test(body.keyId)) throw bad('keyId must be 16 hex digits')
    const bytes = base64Param(body.bundle, 'bundle')
    const signature = base64Param(body.signature, 'signature')
    if (o.trustedKeys.size === 0) throw new LambkinError(ErrorCodes.KEY_UNTRUSTED, 'this cloud trusts no signing keys, so it takes no bundles: start it with lambkin cloud --trust <lambkin.pub> (the public key from lambkin keys generate)', { details: { keyId: body.keyId } })
    // Hash, trusted key and signature first (src/bundle/sign.ts), then the contents with every field checked.
    verifyBundle(bytes, { sha256: body.sha256, signature, keyId: body.keyId }, o.trustedKeys)
    const contents = readBundle(bytes, { sha256: body.sha256 })
    const { bundle, created } = await o.registry.putBundle({
      sha256: body.sha256,
      name: contents.name,
      version: contents.version,
      signature,
      keyId: body.keyId,
      uploadedAt: o.now(),
      bytes
    })
    return await reply
      .status(created ? 201 : 200)
      .send({ sha256: bundle.sha256, name: bundle.name, version: bundle.version, number: bundle.number, size: bundle.size })
  })

  app.post('/v1/rollouts', async (req, reply) => {
    return await reply.status(201).send(await o.engine.deploy((req.body ?? {}) as Partial<DeployRequest>))
  })

  app.get('/v1/rollouts', async (req) => {
    const limit = intParam((req.query as Record<string, unknown>).limit, 'limit', 1, 1000)
    return { rollouts: await o.engine.list(limit) }
  })

  // Following a rollout: with since and wait, answer as soon as its revision passes `since`.
  app.get('/v1/rollouts/:id', async (req) => {
    const { id } = req.params as { id: string }
    const q = req.query as Record<string, unknown>
    const since = intParam(q.since, 'since', 0, Number.MAX_SAFE_INTEGER)
    const wait = Math.min(intParam(q.wait, 'wait', 0, 60_000) ?? 0, h.maxWaitMs)
    const view = await o.engine.get(id)
    if (since === undefined || view.revision > since || wait === 0 || h.closing()) return view
    await new Promise<void>((resolve) => {
      const done = (): void => { clearTimeout(timer); off(); resolve() }
      const timer = setTimeout(done, wait)
      timer.unref()
      const off = o.engine.onChange(id, done)
    })
    return await o.engine.get(id)
  })

  // A rollout that already finished is answered as it is, with alreadyFinished: true, so the CLI can say nothing changed.
  app.post('/v1/rollouts/:id/cancel', async (req) => {
    const { id } = req.params as { id: string }
    const before = await o.engine.get(id)
    const view = await o.engine.cancel(id)
    return before.state === 'running' ? view : { ...view, alreadyFinished: true }
  })

  // Checking a target before an upload: the devices a rollout to `to` would reach.
  app.get('/v1/targets/:to', async (req) => ({ devices: await resolveTargets(o.registry, (req.params as { to: string }).to) }))

  app.post('/v1/rollbacks', async (req, reply) => {
    const body = (req.body ?? {}) as Partial<RollbackRequest>
    if (!isValidId(body.fn)) throw bad('fn must be a function name')
    return await reply
      .status(201)
      .send(await o.engine.rollback({ fn: body.fn, to: body.to as string, ...(body.timeoutMs === undefined ? {} : { timeoutMs: body.timeoutMs }) }))
  })

  // An event over the cap is LAMBKIN_INPUT_LIMIT, as `lambkin invoke` and the device say for it.
  const overCap: BodyLimitConfig = { overBodyLimit: ErrorCodes.INPUT_LIMIT }
  app.post('/v1/devices/:id/invoke', { bodyLimit: INVOKE_BODY_LIMIT, config: overCap }, async (req) => {
    const { id } = req.params as { id: string }
    if ((await h.device(id)).revokedAt !== undefined) throw new LambkinError(ErrorCodes.DEVICE_NOT_FOUND, `no device ${id} (revoked); see lambkin devices`)
    const body = (req.body ?? {}) as { fn?: unknown, event?: unknown, timeoutMs?: unknown }
    if (!isValidId(body.fn)) throw bad('fn must be a function name')
    if (body.timeoutMs !== undefined && !Number.isInteger(body.timeoutMs)) throw bad('timeoutMs must be an integer number of ms')
    // The event reaches the function as a device's record data would (record-data.ts).
    const problem = dataProblem(body.event)
    if (problem !== undefined) throw bad(`event ${problem.message}`)
    return await o.invoker.invoke(id, body.fn, body.event ?? {}, body.timeoutMs as number | undefined)
  })
}

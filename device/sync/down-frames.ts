// The deployment frames the cloud sends a device [W5]-[W7] as the cloud link hands them on:
// the receivers' shape, the decode cap, and the one dispatch from topic kind to validator.
import { BUNDLE_MAX_BYTES } from '../../src/bundle/index.js'
import { decodeFrame, downTopic, parseBundleFrame, parseDesired, parseInvoke } from '../../src/wire/index.js'
import type { BundleFrame, DesiredFrame, InvokeFrame } from '../../src/wire/index.js'
import { errorMessage } from '../../src/errors.js'

/**
 * The largest down frame decoded, bytes: a bundle (BUNDLE_MAX_BYTES) and its envelope. A
 * desired state of 1000 functions (DEPLOY_LIMITS) stays well under it.
 */
export const DOWN_FRAME_MAX_BYTES = BUNDLE_MAX_BYTES + 64 * 1024

/** Receivers of validated down frames; each is called synchronously and must not throw. */
export interface CloudDownHandlers {
  /** `down/desired` [W5] (retained: arrives again on every connect). */
  desired?: (f: DesiredFrame) => void
  /** `down/bundle` [W6], the answer to an up/fetch. */
  bundle?: (f: BundleFrame) => void
  /** `down/invoke` [W7]. */
  invoke?: (f: InvokeFrame) => void
  /** Each time the link is (re)connected and subscribed: the moment to send `up/reported` again [W5]. */
  connected?: () => void
}

export type DownFrame =
  | { kind: 'desired', frame: DesiredFrame }
  | { kind: 'bundle', frame: BundleFrame }
  | { kind: 'invoke', frame: InvokeFrame }

/**
 * Validates a decoded frame by its topic kind; undefined for kinds that are not deployment
 * frames. @throws LambkinError LAMBKIN_WIRE_INVALID naming the bad field [W2].
 */
export function parseDown (kind: string, f: Record<string, unknown>): DownFrame | undefined {
  switch (kind) {
    case 'desired': return { kind, frame: parseDesired(f) }
    case 'bundle': return { kind, frame: parseBundleFrame(f) }
    case 'invoke': return { kind, frame: parseInvoke(f) }
    default: return undefined
  }
}

/**
 * Decodes, validates and hands one message on the device's down/ tree (other than ack) to its
 * handler. Returns undefined when handled or not a deployment frame; else what went wrong,
 * `refused` when the frame broke a wire rule (the caller counts it) [W8]. Never throws.
 */
export function dispatchDown (
  topic: string,
  payload: Uint8Array,
  deviceId: string,
  handlers: CloudDownHandlers
): { refused: boolean; message: string } | undefined {
  const kind = topic.slice(topic.lastIndexOf('/') + 1)
  if (topic !== downTopic(deviceId, kind as never)) return undefined
  // An empty retained payload clears the desired state at the broker: nothing to act on.
  if (payload.byteLength === 0) return undefined
  let parsed: DownFrame | undefined
  try {
    parsed = parseDown(kind, decodeFrame(payload, DOWN_FRAME_MAX_BYTES))
  } catch (err) {
    return { refused: true, message: `refused a ${kind} frame: ${errorMessage(err)} [W8]` }
  }
  try {
    if (parsed?.kind === 'desired') handlers.desired?.(parsed.frame)
    else if (parsed?.kind === 'bundle') handlers.bundle?.(parsed.frame)
    else if (parsed?.kind === 'invoke') handlers.invoke?.(parsed.frame)
  } catch (err) {
    return { refused: false, message: `handling a ${kind} frame failed: ${errorMessage(err)}` }
  }
  return undefined
}

// Topic names of the device <-> cloud protocol, built and parsed in one place [W1].
import { isValidId } from '../ids.js'

/** Every protocol topic starts here; the tree is reserved for the cloud link [W1]. */
export const WIRE_ROOT = 'lambkin/v1'

/** Device -> cloud message kinds [W3][W4][W5][W7]. */
export const UP_KINDS = Object.freeze(['status', 'heartbeat', 'batch', 'reported', 'invoke-result', 'fetch'] as const)
export type UpKind = (typeof UP_KINDS)[number]

/** Cloud -> device message kinds [W4][W5][W6][W7]. */
export const DOWN_KINDS = Object.freeze(['ack', 'desired', 'invoke', 'bundle'] as const)
export type DownKind = (typeof DOWN_KINDS)[number]

export type Direction = 'up' | 'down'

/** `lambkin/v1/{deviceId}/up/{kind}` [W1]. Throws TypeError on an invalid id (a bug, not input). */
export function upTopic (deviceId: string, kind: UpKind): string {
  if (!isValidId(deviceId)) throw new TypeError(`invalid device id ${JSON.stringify(deviceId)}`)
  return `${WIRE_ROOT}/${deviceId}/up/${kind}`
}

/** `lambkin/v1/{deviceId}/down/{kind}` [W1]. Throws TypeError on an invalid id. */
export function downTopic (deviceId: string, kind: DownKind): string {
  if (!isValidId(deviceId)) throw new TypeError(`invalid device id ${JSON.stringify(deviceId)}`)
  return `${WIRE_ROOT}/${deviceId}/down/${kind}`
}

/** The filter a device subscribes to for everything the cloud sends it [W1]. */
export function downFilter (deviceId: string): string {
  return `${WIRE_ROOT}/${deviceId}/down/#`
}

/** The filter the cloud subscribes to for everything devices send (optionally shared, MQTT 5 4.8.2). */
export function upFilter (share?: string): string {
  const f = `${WIRE_ROOT}/+/up/+`
  return share === undefined ? f : `$share/${share}/${f}`
}

export interface ParsedTopic { deviceId: string, direction: Direction, kind: string }

/**
 * Splits a device topic into its parts, or undefined when it is not one: wrong root, an
 * invalid device id, a direction other than up/down, or a kind that is missing or nested.
 * The kind is returned as sent; callers check it against UP_KINDS / DOWN_KINDS.
 */
export function parseDeviceTopic (topic: string): ParsedTopic | undefined {
  const parts = topic.split('/')
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== WIRE_ROOT) return undefined
  const [, , deviceId, direction, kind] = parts
  if (!isValidId(deviceId) || (direction !== 'up' && direction !== 'down') || kind === '') return undefined
  return { deviceId, direction, kind }
}

/** True for any topic in the reserved protocol tree (`lambkin/` and below). */
export function isReservedTopic (topic: string): boolean {
  return topic === 'lambkin' || topic.startsWith('lambkin/')
}

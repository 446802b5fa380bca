// Who may do what on the cloud broker (docs/architecture.md, "Cloud side"; docs/wire.md [W1]): a device
// publishes only under its own up/ tree and subscribes only to its own down/ tree (and bundles,
// read-only). Pure functions, so the rules are tested apart from aedes.
import { WIRE_ROOT } from '../../src/wire/index.js'

/** Why a device's request was refused; the label of the refusal counter. */
export type Refusal = 'bad-credentials' | 'revoked' | 'client-id' | 'publish-acl' | 'subscribe-acl' | 'too-many-connections' | 'packet-too-large' | 'too-many-subscriptions'

/** A device may publish only to `lambkin/v1/{its id}/up/{kind}` (one level, no wildcards). */
export function mayPublish (deviceId: string, topic: string): boolean {
  const prefix = `${WIRE_ROOT}/${deviceId}/up/`
  if (!topic.startsWith(prefix)) return false
  const kind = topic.slice(prefix.length)
  return kind.length > 0 && !/[/+#\u0000]/.test(kind)
}

/**
 * A device may subscribe to its own down/ tree (`…/{id}/down/#`, `…/{id}/down/{kind}`) and to
 * bundles by hash (`lambkin/v1/bundles/{sha256}`, [W6]); never to `#`, `+/…` or another device.
 */
export function maySubscribe (deviceId: string, filter: string): boolean {
  const own = `${WIRE_ROOT}/${deviceId}/down/`
  if (filter.startsWith(own)) {
    const rest = filter.slice(own.length)
    return rest === '#' || (rest.length > 0 && !/[/+#\u0000]/.test(rest))
  }
  return /^lambkin\/v1\/bundles\/[0-9a-f]{64}$/.test(filter)
}

/**
 * The most topic filters one device's session may hold on the embedded broker. The agent
 * subscribes to one (`…/{id}/down/#`); each filter costs the broker memory, kept while a
 * persistent session lasts, so a device asking for thousands is refused the rest (SUBACK 0x80)
 * and counted as 'too-many-subscriptions' (docs/cloud.md, "Device credentials"). One SUBSCRIBE
 * with more filters than this closes the connection unanswered, each filter counted
 * (src/mqtt/packet-limit.ts limitSubscribeFilters).
 */
export const MAX_SUBSCRIPTIONS_PER_DEVICE = 64

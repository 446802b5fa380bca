// The W1 rules of acl.ts written as Mosquitto dynamic-security roles (docs/brokers.md): one role
// per device, the cloud instances' role, and the admin role that may drive the plugin. The names
// lambkin gives broker clients and roles, kept apart from device ids by a dot (no id holds one).
import { isValidId } from '../../src/ids.js'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { WIRE_ROOT } from '../../src/wire/index.js'

/** One ACL entry of a dynamic-security role (Mosquitto's plugins/dynamic-security/README.md, "Create Role"). */
export interface DynsecAcl {
  acltype: 'publishClientSend' | 'publishClientReceive' | 'subscribeLiteral' | 'subscribePattern' | 'unsubscribeLiteral' | 'unsubscribePattern'
  topic: string
  allow: boolean
  priority?: number
}

/** The shared-subscription group cloud instances consume uploads in (docs/architecture.md, "Scale-out"). */
export const CLOUD_SHARE_GROUP = 'lambkin-cloud'

/** Broker names lambkin uses besides device ids; each holds a dot, so no device id can take it [W1]. */
export const DYNSEC_NAMES = Object.freeze({
  /** The client cloud instances connect as (`--broker`, `--broker-admin`). */
  cloudClient: 'lambkin.cloud',
  cloudRole: 'lambkin.cloud',
  adminRole: 'lambkin.admin',
  devicePrefix: 'lambkin.device.'
})

/**
 * Broker defaults for what no role grants: deny, except unsubscribing. Mosquitto's own
 * `mosquitto_ctrl dynsec init` lets clients receive anything by default; lambkin also denies
 * that, so a device reads only what its role names even if a subscription slipped through.
 */
export const DYNSEC_DEFAULT_ACCESS = Object.freeze({ publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: true })

/** Throws LAMBKIN_REQUEST_INVALID for an id W1 does not allow (`__proto__`, `a/b`, `#`, `Admin`). */
export function checkDeviceId (id: unknown): string {
  if (!isValidId(id)) throw new LambkinError(ErrorCodes.REQUEST_INVALID, `device id ${JSON.stringify(id)} is not one W1 allows (^[a-z0-9][a-z0-9_-]{0,62}$), so it is never a broker client name`)
  return id
}

/** The role holding one device's ACLs: `lambkin.device.<id>`. */
export function deviceRoleName (id: string): string {
  return DYNSEC_NAMES.devicePrefix + checkDeviceId(id)
}

/**
 * A device's ACLs, the same as acl.ts's mayPublish/maySubscribe [W1]: publish only
 * `lambkin/v1/<id>/up/<kind>`, subscribe to and receive only `lambkin/v1/<id>/down/…`.
 * Mosquitto 2.0's dynamic security has no %c/%u patterns, hence a role per device.
 */
export function deviceAcls (id: string): DynsecAcl[] {
  const own = `${WIRE_ROOT}/${checkDeviceId(id)}`
  return [
    { acltype: 'publishClientSend', topic: `${own}/up/+`, allow: true },
    { acltype: 'subscribePattern', topic: `${own}/down/#`, allow: true },
    { acltype: 'publishClientReceive', topic: `${own}/down/#`, allow: true }
  ]
}

/**
 * The cloud instances' ACLs: consume every device's uploads (alone or in the shared group) and
 * publish to every device's down/ tree (acks, desired state, bundles, invokes).
 */
export function cloudAcls (share = CLOUD_SHARE_GROUP): DynsecAcl[] {
  const up = `${WIRE_ROOT}/+/up/#`
  return [
    { acltype: 'subscribePattern', topic: `$share/${share}/${up}`, allow: true },
    { acltype: 'subscribePattern', topic: up, allow: true },
    { acltype: 'publishClientReceive', topic: up, allow: true },
    { acltype: 'publishClientSend', topic: `${WIRE_ROOT}/+/down/#`, allow: true }
  ]
}

/** What may drive the plugin: send commands on `$CONTROL/dynamic-security/v1` and read the answers. */
export function adminAcls (): DynsecAcl[] {
  const control = '$CONTROL/dynamic-security/#'
  return [
    { acltype: 'publishClientSend', topic: control, allow: true },
    { acltype: 'subscribePattern', topic: control, allow: true },
    { acltype: 'publishClientReceive', topic: control, allow: true }
  ]
}

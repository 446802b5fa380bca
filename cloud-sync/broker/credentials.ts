// Where a device's broker credentials live, behind one interface the operator API calls on
// `lambkin devices add | rotate | revoke` (docs/brokers.md): the embedded broker reads them from
// the registry itself (cloud-broker.ts), so it only has to cut connections; an external Mosquitto
// keeps its own clients, roles and ACLs, driven through its dynamic-security plugin (dynsec.ts).
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import type { DynsecClient } from './dynsec.js'
import { checkDeviceId, deviceAcls, deviceRoleName } from './dynsec-roles.js'

/**
 * Called after the registry changed, for the broker to follow. Each method resolves once the
 * broker enforces the change, and throws (LAMBKIN_BROKER_ADMIN_FAILED) when it could not.
 */
export interface CredentialSink {
  /** A device was registered with `secret`: from now on it may connect and use its W1 topics. */
  added: (id: string, secret: string) => Promise<void>
  /** A device's secret is now `secret`: the old one no longer works and a connection using it is closed. */
  rotated: (id: string, secret: string) => Promise<void>
  /** A device was revoked: its live connection is closed at once and it cannot connect again. */
  revoked: (id: string) => Promise<void>
}

/** The embedded broker's sink: it checks every connect against the registry, so only live connections need cutting. */
export function embeddedCredentials (disconnect: (id: string) => void): CredentialSink {
  return {
    added: async () => {},
    rotated: async (id) => { disconnect(id) },
    revoked: async (id) => { disconnect(id) }
  }
}

/** Whose a broker client is (DynsecCredentials.#owner). */
type Owner = 'absent' | 'foreign' | { hasRole: boolean }

/** Several sinks as one, each told in turn (the first failure stops the rest and is thrown). */
export function allCredentials (...sinks: CredentialSink[]): CredentialSink {
  return {
    added: async (id, secret) => { for (const s of sinks) await s.added(id, secret) },
    rotated: async (id, secret) => { for (const s of sinks) await s.rotated(id, secret) },
    revoked: async (id) => { for (const s of sinks) await s.revoked(id) }
  }
}

/** What a lambkin device client is called in the plugin's listings (textname). */
const DEVICE_TEXT = 'lambkin device'

/**
 * An external Mosquitto's sink: per device a client (user name and client id both the device id,
 * as device/sync/cloud-link.ts connects) holding one role with the device's W1 ACLs
 * (dynsec-roles.ts). Revocation deletes both: the plugin closes the client's connection as it
 * deletes it, and a user name it does not know is refused when `allow_anonymous` is false.
 */
export class DynsecCredentials implements CredentialSink {
  readonly #client: Pick<DynsecClient, 'runAll' | 'run'>

  constructor (client: Pick<DynsecClient, 'runAll' | 'run'>) {
    this.#client = client
  }

  async added (id: string, secret: string): Promise<void> {
    const rolename = await this.#ensureRole(id)
    const [client] = await this.#client.run([{ command: 'createClient', username: id, password: secret, clientid: id, textname: DEVICE_TEXT, roles: [{ rolename }] }])
    // One lambkin made before (an add whose answer was lost) is this device's: give it this secret.
    if (client.error === 'Client already exists') await this.#rekey(id, secret, await this.#owner(id))
    else if (client.error !== undefined) throw refused(client.command, client.error)
  }

  async rotated (id: string, secret: string): Promise<void> {
    const owner = await this.#owner(checkDeviceId(id))
    // Registered while the cloud ran another sink, or an add that did not reach the broker: make it now.
    if (owner === 'absent') { await this.added(id, secret); return }
    // The role as this version writes it (a rotation also repairs one changed on the broker).
    if (owner !== 'foreign') await this.#ensureRole(id)
    await this.#rekey(id, secret, owner)
  }

  async revoked (id: string): Promise<void> {
    // Already gone is revoked too: the same command again must succeed.
    await this.#client.runAll([{ command: 'deleteClient', username: checkDeviceId(id) }, { command: 'deleteRole', rolename: deviceRoleName(id) }], ['Client not found', 'Role not found'])
  }

  /**
   * Whose the broker client named `id` is: lambkin's (the textname and client id it gives its
   * device clients, with whether it still holds its role), someone else's, or absent.
   */
  async #owner (id: string): Promise<Owner> {
    const [got] = await this.#client.run([{ command: 'getClient', username: id }])
    if (got.error === 'Client not found') return 'absent'
    if (got.error !== undefined) throw refused(got.command, got.error)
    const c = (got.data as { client?: { textname?: unknown, clientid?: unknown, roles?: Array<{ rolename?: unknown }> } } | undefined)?.client
    if (c?.textname !== DEVICE_TEXT || c.clientid !== id) return 'foreign'
    return { hasRole: (c.roles ?? []).some((r) => r.rolename === deviceRoleName(id)) }
  }

  /**
   * Gives lambkin's client `id` the new secret (the plugin closes connections made with the old
   * one as it sets it) and its role back if it lost it. A client lambkin did not make is never
   * taken over: its roles could be anything, up to the broker's admin.
   */
  async #rekey (id: string, secret: string, owner: Owner): Promise<void> {
    if (owner === 'absent' || owner === 'foreign') throw new LambkinError(ErrorCodes.BROKER_ADMIN_FAILED, `the broker has ${owner === 'absent' ? 'no' : 'a'} client named ${id}${owner === 'foreign' ? ' that lambkin did not make (its textname or client id is not lambkin\'s), and lambkin does not take over a broker client: its roles could be anything. Remove or rename it on the broker, then run lambkin devices rotate ' + id : ''}`, { details: { reason: owner } })
    await this.#client.runAll([
      { command: 'setClientPassword', username: id, password: secret },
      ...(owner.hasRole ? [] : [{ command: 'addClientRole', username: id, rolename: deviceRoleName(id) }])
    ])
  }

  /** Creates the device's role, or sets its ACLs to ours when it exists (left by an add whose client was never made); returns its name. */
  async #ensureRole (id: string): Promise<string> {
    const rolename = deviceRoleName(id)
    const acls = deviceAcls(id)
    const [role] = await this.#client.run([{ command: 'createRole', rolename, textname: DEVICE_TEXT, acls }])
    if (role.error === 'Role already exists') await this.#client.runAll([{ command: 'modifyRole', rolename, acls }])
    else if (role.error !== undefined) throw refused(role.command, role.error)
    return rolename
  }
}

/**
 * A sink's failure as the operator sees it: `message` says what the registry holds now and
 * what to run; the sink's code (LAMBKIN_BROKER_ADMIN_FAILED, or LAMBKIN_REQUEST_INVALID) and facts are kept.
 */
export function brokerLag (err: unknown, message: string): LambkinError {
  const code = err instanceof LambkinError ? err.code : ErrorCodes.BROKER_ADMIN_FAILED
  return new LambkinError(code, message, { cause: err, details: err instanceof LambkinError ? err.details : {} })
}

function refused (command: string, reason: string): LambkinError {
  return new LambkinError(ErrorCodes.BROKER_ADMIN_FAILED, `the broker refused ${command}: ${reason}`, { details: { command, reason } })
}

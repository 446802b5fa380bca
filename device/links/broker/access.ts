// Who may use the embedded broker and what each may do: the aedes hooks preConnect,
// authenticate, authorizePublish (the ACL part) and authorizeSubscribe, and client id ownership.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { AuthenticateError, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes'
import { ALL_GRANTS, mayPublish, maySubscribe } from './acl.js'
import type { Grants } from './acl.js'
import { hashPassword, parsePasswordHash, SCRYPT_DEFAULTS, verifyPassword } from '../../../src/secrets.js'
import type { ParsedHash } from '../../../src/secrets.js'
import type { Refusals } from './refusals.js'

/** One user as the config holds it (device/config/types.ts BrokerUserConfig). */
export type BrokerUser = Readonly<{ username: string, passwordHash: string, publish: readonly string[], subscribe: readonly string[], retain: boolean }>

export interface BrokerAccessOptions {
  users: readonly BrokerUser[]
  /** Clients without a user name connect with ALL_GRANTS. */
  allowAnonymous: boolean
  /** Largest keepalive accepted, in s; 0 (no keepalive) is refused as well. */
  maxKeepaliveSec: number
  refusals: Refusals
}

interface User { name: string, hash: ParsedHash, grants: Grants, /** HMAC of the last password that verified. */ known?: Buffer }
interface Identity { user: string | undefined, grants: Grants }

/** CONNACK return codes, MQTT 3.1.1 section 3.2.2.3. */
const IDENTIFIER_REJECTED = 2
const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5

function refusal (returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError
}

export class BrokerAccess {
  readonly #users = new Map<string, User>()
  readonly #anonymous: boolean
  readonly #maxKeepaliveSec: number
  readonly #refusals: Refusals
  readonly #identities = new WeakMap<Client, Identity>()
  readonly #keepalives = new WeakMap<Client, number>()
  /** Client id -> who holds it: the live connection, or the session it left (clean: false). */
  readonly #owners = new Map<string, { user: string | undefined; client: Client }>()
  /** Keys the in-memory record of verified passwords, so a reconnect skips scrypt. */
  readonly #cacheKey = randomBytes(32)
  /** One scrypt at a time: a flood of wrong passwords must not starve LevelDB's threads. */
  #verifying: Promise<unknown> = Promise.resolve()
  #decoy: Promise<ParsedHash> | undefined

  constructor (opts: BrokerAccessOptions) {
    for (const u of opts.users) {
      this.#users.set(u.username, {
        name: u.username,
        hash: parsePasswordHash(u.passwordHash),
        grants: Object.freeze({ publish: [...u.publish], subscribe: [...u.subscribe], retain: u.retain })
      })
    }
    this.#anonymous = opts.allowAnonymous
    this.#maxKeepaliveSec = opts.maxKeepaliveSec
    this.#refusals = opts.refusals
  }

  /** aedes preConnect: remembers the keepalive the CONNECT asked for; authenticate judges it. */
  preConnect (client: Client, packet: ConnectPacket, callback: (err: Error | null, ok: boolean) => void): void {
    this.#keepalives.set(client, packet.keepalive ?? 0)
    callback(null, true)
  }

  /** aedes authenticate: user and password, keepalive, then client id ownership (section 3.1.4). */
  authenticate (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (err: AuthenticateError | null, ok: boolean | null) => void
  ): void {
    const keepalive = this.#keepalives.get(client) ?? 0
    if (keepalive === 0 || keepalive > this.#maxKeepaliveSec) {
      this.#refusals.count(
        'keepalive',
        `client "${client.id}" asked for keepalive ${keepalive} s; allowed 1 to ${this.#maxKeepaliveSec} s (broker.maxKeepaliveSec)`
      )
      done(refusal(IDENTIFIER_REJECTED, 'keepalive must be 1 to maxKeepaliveSec'), false)
      return
    }
    this.#identify(username, password).then(
      (identity) => {
        if (identity === undefined) {
          this.#refusals.count(
            'bad_credentials',
            username === undefined ? `client "${client.id}" sent no user name` : `client "${client.id}" as "${username}"`
          )
          done(refusal(username === undefined ? NOT_AUTHORIZED : BAD_USERNAME_OR_PASSWORD, 'bad user name or password'), false)
          return
        }
        const owner = this.#owners.get(client.id)
        const stale = owner !== undefined && owner.client.closed && owner.client.clean
        if (owner !== undefined && !stale && owner.user !== identity.user) {
          this.#refusals.count(
            'client_id_taken',
            `client id "${client.id}" belongs to ${owner.user === undefined ? 'an anonymous client' : `user "${owner.user}"`}, asked for by ${identity.user === undefined ? 'an anonymous client' : `user "${identity.user}"`}`
          )
          done(refusal(IDENTIFIER_REJECTED, 'client id in use by another user'), false)
          return
        }
        this.#owners.set(client.id, { user: identity.user, client })
        this.#identities.set(client, identity)
        done(null, true)
      },
      (err: Error) => done(refusal(3, `cannot check the password: ${err.message}`), false)
    )
  }

  /** Called on aedes 'clientDisconnect': a clean session leaves nothing to own. */
  disconnected (client: Client): void {
    const owner = this.#owners.get(client.id)
    if (owner?.client === client && client.clean) this.#owners.delete(client.id)
  }

  /**
   * The ACL part of aedes authorizePublish for a client's PUBLISH or will: an Error to refuse
   * (aedes then closes the connection without PUBACK), or undefined. `client` null is a will
   * of a client long gone, which passed this check when it connected.
   */
  checkPublish (client: Client | null, packet: PublishPacket): Error | undefined {
    if (client === null) return undefined
    const id = this.#identities.get(client)
    const grants = id?.grants
    if (grants === undefined || !mayPublish(grants, packet.topic)) {
      this.#refusals.count('publish_denied', `${who(client, id)} may not publish to "${packet.topic}"`)
      return new Error(`not authorized to publish to ${packet.topic}`)
    }
    if (packet.retain && !grants.retain) {
      this.#refusals.count('retain_denied', `${who(client, id)} may not publish retained messages ("${packet.topic}")`)
      return new Error('not authorized to retain')
    }
    return undefined
  }

  /** aedes authorizeSubscribe: a filter outside the grants gets SUBACK 0x80 (section 3.9.3); the connection stays. */
  authorizeSubscribe (client: Client, sub: Subscription, callback: (err: Error | null, sub?: Subscription | null) => void): void {
    const id = this.#identities.get(client)
    if (id === undefined || !maySubscribe(id.grants, sub.topic)) {
      this.#refusals.count('subscribe_denied', `${who(client, id)} may not subscribe to "${sub.topic}"`)
      callback(null, null)
      return
    }
    callback(null, sub)
  }

  async #identify (username: string | undefined, password: Buffer | undefined): Promise<Identity | undefined> {
    if (username === undefined) return this.#anonymous ? { user: undefined, grants: ALL_GRANTS } : undefined
    const user = this.#users.get(username)
    const given = password ?? Buffer.alloc(0)
    const mac = createHmac('sha256', this.#cacheKey).update(username).update('\0').update(given).digest()
    if (user?.known !== undefined && timingSafeEqual(user.known, mac)) return { user: username, grants: user.grants }
    // An unknown name costs a scrypt too, so timing does not tell which names exist.
    const hash = user?.hash ?? (await (this.#decoy ??= hashPassword('decoy', SCRYPT_DEFAULTS).then(parsePasswordHash)))
    const run = this.#verifying.then(async () => await verifyPassword(given, hash))
    this.#verifying = run.catch(() => {})
    const ok = await run
    if (user === undefined || !ok) return undefined
    user.known = mac
    return { user: username, grants: user.grants }
  }
}

function who (client: Client, id: Identity | undefined): string {
  return id?.user === undefined ? `client "${client.id}"` : `user "${id.user}" (client "${client.id}")`
}

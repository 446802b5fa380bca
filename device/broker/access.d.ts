import type { AuthenticateError, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes';
import type { Refusals } from './refusals.js';
/** One user as the config holds it (device/config/types.ts BrokerUserConfig). */
export type BrokerUser = Readonly<{
    username: string;
    passwordHash: string;
    publish: readonly string[];
    subscribe: readonly string[];
    retain: boolean;
}>;
export interface BrokerAccessOptions {
    users: readonly BrokerUser[];
    /** Clients without a user name connect with ALL_GRANTS. */
    allowAnonymous: boolean;
    /** Largest keepalive accepted, in s; 0 (no keepalive) is refused as well. */
    maxKeepaliveSec: number;
    refusals: Refusals;
}
export declare class BrokerAccess {
    #private;
    constructor(opts: BrokerAccessOptions);
    /** aedes preConnect: remembers the keepalive the CONNECT asked for; authenticate judges it. */
    preConnect(client: Client, packet: ConnectPacket, callback: (err: Error | null, ok: boolean) => void): void;
    /** aedes authenticate: user and password, keepalive, then client id ownership (section 3.1.4). */
    authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: (err: AuthenticateError | null, ok: boolean | null) => void): void;
    /** Called on aedes 'clientDisconnect': a clean session leaves nothing to own. */
    disconnected(client: Client): void;
    /**
     * The ACL part of aedes authorizePublish for a client's PUBLISH or will: an Error to refuse
     * (aedes then closes the connection without PUBACK), or undefined. `client` null is a will
     * of a client long gone, which passed this check when it connected.
     */
    checkPublish(client: Client | null, packet: PublishPacket): Error | undefined;
    /** aedes authorizeSubscribe: a filter outside the grants gets SUBACK 0x80 (section 3.9.3); the connection stays. */
    authorizeSubscribe(client: Client, sub: Subscription, callback: (err: Error | null, sub?: Subscription | null) => void): void;
}

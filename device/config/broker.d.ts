import type { Source } from './schema.js';
import type { BrokerUserConfig, DeviceConfig } from './types.js';
/**
 * Checks a list of user entries `{ username, passwordHash, publish?, subscribe?, retain? }`
 * (publish/subscribe: MQTT topic filters, default none; retain default false). Throws an Error
 * whose message names the entry and the field; the caller wraps it with the config key.
 */
export declare function parseBrokerUsers(raw: unknown): BrokerUserConfig[];
/**
 * Reads `broker.usersFile` into `cfg.broker.users` (a name in both is refused) and applies the
 * exposure rule: a broker on a non-loopback `brokerHost` needs users unless
 * `broker.allowAnonymous` is true. Throws LAMBKIN_CONFIG_INVALID naming `broker.users`.
 */
export declare function checkBrokerAccess(cfg: DeviceConfig, sources: Map<string, Source>): Promise<void>;

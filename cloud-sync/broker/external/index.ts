// The cloud on a broker the fleet already runs (docs/scale-out.md).
export { connectExternalBroker, EXTERNAL_BROKER_DEFAULTS, SHARE_GROUP } from './external-broker.js'
export type { ExternalBroker, ExternalBrokerOptions } from './external-broker.js'
export { parseBrokerUrl } from './broker-url.js'
export { instanceClientId } from './instance-id.js'
export { Presence } from './presence.js'
export { startExternalChannel } from './start.js'

// Public surface of bundles [W6]: the format (pack, read, sha256), ed25519 keys, and signing.
// Nothing here loads the sandbox: the cloud reads bundles without QuickJS.
export { BUNDLE_FORMAT, BUNDLE_MAX_BYTES, SHA256_PATTERN, packBundle, readBundle, sha256Hex } from './format.js'
export type { BundleContents, PackedBundle } from './format.js'
export { DESIRED_STATE_USE, KEY_ID_PATTERN, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, desiredStateKeyText, generateKeys, keyIdOf, readSigningKey, readTrustedKey, readTrustedKeys } from './keys.js'
export type { SigningKey, TrustedKey } from './keys.js'
export { SIGNATURE_BYTES, signBundle, signedMessage, verifyBundle, verifySignature } from './sign.js'
export type { BundleSignature } from './sign.js'
export { desiredMessage, signDesired, verifyDesired } from './desired-sign.js'
export type { DesiredAuth } from './desired-sign.js'

// Loads a bench-only peer from bench/peers/node_modules, which `npm run bench` installs on
// demand; the main install never builds them (isolated-vm compiles C++).
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/** bench/peers/package.json in the source tree, from dist/bench/peers/require.js. */
export const PEERS_PACKAGE = fileURLToPath(new URL('../../../bench/peers/package.json', import.meta.url))

/** Requires a peer by name; throws when it is not installed. */
export function requirePeer (name: string): unknown {
  return createRequire(PEERS_PACKAGE)(name)
}

/** True when the peer can be loaded. */
export function hasPeer (name: string): boolean {
  try { requirePeer(name); return true } catch { return false }
}

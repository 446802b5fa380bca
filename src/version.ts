// lambkin's version, as package.json gives it (the agent reports it in its online status, W3).
import { readFileSync } from 'node:fs'

/** The package version, e.g. "0.1.0"; "unknown" if package.json cannot be read. */
export const VERSION: string = (() => {
  try {
    // dist/src/version.js -> package.json at the package root.
    return String((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }).version ?? 'unknown')
  } catch {
    return 'unknown'
  }
})()

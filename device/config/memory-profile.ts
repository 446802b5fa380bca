// Which memory profile the agent runs under: one rule, read by the `lambkin` executable (the
// Node flags it re-runs with, cli/node-runtime.ts) and by the config loader (its defaults).

/** "small": small-RAM V8, malloc and lambkin defaults; "node": Node's and lambkin's usual ones. */
export type MemoryProfile = 'small' | 'node'

/**
 * LAMBKIN_MEMORY when set ("small" or "node"), else "small" on arm and arm64 (boards) and "node"
 * elsewhere. Returns undefined for any other value, which the caller refuses.
 */
export function memoryProfile (env: Readonly<Record<string, string | undefined>>, arch: string): MemoryProfile | undefined {
  const v = env.LAMBKIN_MEMORY
  if (v === 'small' || v === 'node') return v
  if (v !== undefined && v !== '') return undefined
  return arch === 'arm64' || arch === 'arm' ? 'small' : 'node'
}

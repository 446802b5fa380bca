// Outbox records as JSON (`lambkin outbox --json` and the agent's local /outbox route): the
// store keeps bytes and bigints, which JSON has not.

/** JSON.stringify replacer: bytes become { base64 }, bigints strings. */
export function jsonSafe (this: unknown, _key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Uint8Array) return { base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') }
  // Buffer.toJSON runs before the replacer sees it; turn its { type, data } form back into base64.
  if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
    return { base64: Buffer.from((v as { data: number[] }).data).toString('base64') }
  }
  return v
}

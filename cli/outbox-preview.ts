// What `lambkin outbox` shows of one record in its DATA column: the part a person looks for
// (a result's value, a dead letter's error, a log's first line), on one line, cut to width.
import type { OutboxRecord } from '../device/store/types.js'
import { jsonSafe } from '../device/store/json-safe.js'

export { jsonSafe }

/** The DATA column's width, in characters (code points). */
export const PREVIEW_CHARS = 64

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

/** Any value as compact JSON (bytes as `<n bytes>`); undefined as "null", as the store keeps it. */
function json (v: unknown): string {
  if (v instanceof Uint8Array) return `<${v.byteLength} bytes>`
  try {
    return JSON.stringify(v, jsonSafe) ?? 'null'
  } catch {
    return String(v)
  }
}

/** Text as one table cell: line breaks and other control characters become spaces. */
function oneLine (s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
}

/** Cuts to `width` code points, marking the cut with "…"; `keep` is added after, uncut. */
function fit (s: string, width: number, keep = ''): string {
  const room = width - [...keep].length
  const chars = [...s]
  return (chars.length > room ? chars.slice(0, Math.max(0, room - 1)).join('') + '…' : s) + keep
}

/**
 * The shapes the invoker writes (device/invoke/invoker.ts) are shown by their point; anything else
 * (records written by other code, or older shapes) falls back to its JSON.
 */
function text (kind: OutboxRecord['kind'], data: unknown): { main: string, keep?: string } {
  if (kind === 'result' && isObject(data) && 'invocationId' in data && 'result' in data) {
    return { main: json(data.result) }
  }
  if (kind === 'dead-letter' && isObject(data) && isObject(data.error) && typeof data.error.code === 'string') {
    return { main: oneLine(`${data.error.code}: ${String(data.error.message ?? '')}`) }
  }
  if (kind === 'log' && isObject(data) && Array.isArray(data.lines) && data.lines.length > 0) {
    const first: unknown = data.lines[0]
    const line = isObject(first) ? `[${String(first.level ?? 'info')}] ${String(first.msg ?? '')}` : String(first)
    const more = data.lines.length - 1
    return { main: oneLine(line), keep: more > 0 ? ` (+${more} lines)` : '' }
  }
  if (kind === 'log' && typeof data === 'string') return { main: oneLine(data) }
  if (kind === 'metric' && isObject(data) && isObject(data.functions)) {
    const parts = Object.entries(data.functions).map(([fn, f]) => {
      const figures = isObject(f) ? f : {}
      const errors = isObject(figures.errors) ? Object.values(figures.errors).reduce<number>((n, e) => n + Number(e), 0) : 0
      return `${fn} ${Number(figures.invocations ?? 0)} calls${errors > 0 ? ` ${errors} errors` : ''}`
    })
    return { main: parts.join(', ') }
  }
  return { main: json(data) }
}

/** The DATA cell for one record, at most `width` code points, on one line. */
export function preview (kind: OutboxRecord['kind'], data: unknown, width = PREVIEW_CHARS): string {
  const { main, keep } = text(kind, data)
  return fit(main, width, keep)
}

// Plain-text tables and times for the operator commands' default (non --json) output.
import { logText } from '../src/log-text.js'

/**
 * `s` with control characters shown as `\\xNN` (src/log-text.ts): text a device or a function
 * wrote must not drive the operator's terminal (an ESC sequence could recolour or rewrite it).
 */
export function printable (s: string): string {
  return logText(s)
}

/** Left-aligned columns separated by two spaces, a header row first; cells made printable. */
export function table (header: string[], rawRows: string[][]): string {
  const rows = rawRows.map((r) => r.map(printable))
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i])).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

/**
 * An ISO time (UTC, seconds) or '-' for never. Times come from devices' clocks: one no Date can
 * hold (beyond ±8.64e15 ms, or not a number) is shown as sent, marked, never thrown on.
 */
export function when (ms: unknown): string {
  if (ms === null || ms === undefined) return '-'
  const d = typeof ms === 'number' ? new Date(ms) : undefined
  if (d === undefined || Number.isNaN(d.getTime())) return `?${String(ms).slice(0, 24)}`
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** A byte count with a binary unit. */
export function bytes (n: number | null | undefined): string {
  if (n === null || n === undefined) return '-'
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 ** 2).toFixed(1)} MiB`
}

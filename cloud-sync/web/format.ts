// How the page writes times, sizes, counts and versions: short, unit always said, the same everywhere.

/** "12 s ago", "3 min ago", "5 h ago", "2 d ago"; "never" for null. */
export function ago (at: number | null, now: number): string {
  if (at === null) return 'never'
  const s = Math.max(0, Math.round((now - at) / 1000))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86_400)} d ago`
}

/** A local date and time for a title attribute or a history line. */
export function when (at: number | null): string {
  if (at === null) return '-'
  const d = new Date(at)
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString()}`
}

export function bytes (n: number | null | undefined): string {
  if (n === null || n === undefined) return '-'
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}

// One formatter each: toLocaleString builds a new one per call, which a table of numbers
// redrawn on every keystroke of a search feels.
const WHOLE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const ONE_DECIMAL = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 })

export function count (n: number): string {
  return (n < 10 ? ONE_DECIMAL : WHOLE).format(n)
}

/** "1 record", "3 records": a count and its noun, plural unless exactly one. */
export function counted (n: number, noun: string): string {
  return `${count(n)} ${noun}${n === 1 ? '' : 's'}`
}

/** "v3 (a1b2c3d4)" when the cloud numbered it, else the content version's first 8 digits. */
export function version (v: string | null, n: number | null): string {
  if (v === null) return 'none'
  return n === null ? v.slice(0, 8) : `v${n}`
}

/** State names as people read them. */
export const STATE_WORDS: Record<string, string> = { online: 'online', stale: 'stale', offline: 'offline', 'never-seen': 'never seen', revoked: 'revoked' }

// What a soak checks and prints (soak.ts runs the world): end-to-end delivery of one stream,
// the hostile functions' cost to the healthy ones, and the figures line.

/** Healthy functions and their time budget (limits.timeoutMs), the bound their p99 must keep. */
export const HEALTHY = Object.freeze({ work: 1000, probe: 1000, tick: 1000 })

export interface SoakRecord { stream?: string, seq: number, kind: string, fn?: string, time: number, data: Record<string, unknown> }

/** What a soak prints: counts, the healthy functions' p99 (in the sandbox, and publish to commit), RSS in bytes. */
export interface SoakFigures {
  messages: number
  agentKills: number
  cloudKills: number
  brokerOutages: number
  p99DurationMs: number
  p99LatencyMs: number
  rssHighWaterBytes: number
  rssFirstThirdBytes: number
  rssLastThirdBytes: number
}

/** The p-th percentile (0-100) of `xs`, nearest rank; NaN for none. */
export function percentile (xs: number[], p: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

/** One line of figures, for the test's output and the bench's summary. */
export function figuresLine (name: string, f: SoakFigures): string {
  const mib = (b: number): string => (b / 1024 / 1024).toFixed(1)
  return `${name}: ${f.messages} messages, ${f.agentKills} agent kills, ${f.cloudKills} cloud kills, ${f.brokerOutages} broker outages; healthy p99 ${f.p99DurationMs.toFixed(1)} ms in the sandbox, ${Number.isNaN(f.p99LatencyMs) ? '-' : f.p99LatencyMs} ms publish to commit; agent RSS high-water ${mib(f.rssHighWaterBytes)} MiB (longest life: first third ${mib(f.rssFirstThirdBytes)}, last third ${mib(f.rssLastThirdBytes)})`
}

/**
 * What breaks end-to-end delivery in the cloud's records of one stream [W4]: a load message
 * (ids 0..sent-1) whose `work` result is missing or stored more than once, results of one
 * topic out of id order, or seqs that are not 1, 2, 3... each once (nothing is dropped on
 * purpose in a soak, so no gaps are declared).
 */
export function deliveryProblems (records: SoakRecord[], sent: number): string[] {
  const problems: string[] = []
  const seen = new Map<number, number>()
  const lastOfTopic = new Map<string, number>()
  for (const r of records) {
    if (r.kind !== 'result' || r.fn !== 'work') continue
    const { id, topic } = r.data.result as { id: number, topic: string }
    seen.set(id, (seen.get(id) ?? 0) + 1)
    const last = lastOfTopic.get(topic) ?? -1
    if (id <= last && problems.length < 20) problems.push(`${topic}: result of ${id} at seq ${r.seq} after the result of ${last}`)
    lastOfTopic.set(topic, Math.max(last, id))
  }
  const missing = Array.from({ length: sent }, (_, i) => i).filter((i) => !seen.has(i))
  const twice = [...seen].filter(([, n]) => n > 1).map(([i]) => i)
  if (missing.length > 0) problems.push(`${missing.length} messages without a result in the cloud: ${missing.slice(0, 20).join(', ')}`)
  if (twice.length > 0) problems.push(`${twice.length} messages with more than one result: ${twice.slice(0, 20).join(', ')}`)
  const holes = records.filter((r, i) => r.seq !== i + 1)
  if (holes.length > 0) problems.push(`seqs are not 1, 2, 3...: first off at ${holes[0].seq} (position ${records.indexOf(holes[0]) + 1})`)
  return problems
}

/**
 * What the hostile functions must not cost the healthy ones: a healthy dead letter, or a
 * healthy function's p99 time in the sandbox past its budget. And proof the hostile ones ran
 * and were stopped (a soak whose bomb never went off proves nothing).
 */
export function isolationProblems (records: SoakRecord[]): string[] {
  const problems: string[] = []
  const dead = records.filter((r) => r.kind === 'dead-letter')
  for (const r of dead.filter((d) => d.fn !== undefined && d.fn in HEALTHY).slice(0, 5)) problems.push(`healthy ${String(r.fn)} dead-lettered: ${JSON.stringify((r.data as { error?: unknown }).error)}`)
  for (const [fn, budget] of Object.entries(HEALTHY)) {
    const d = records.filter((r) => r.kind === 'result' && r.fn === fn).map((r) => Number(r.data.durationMs))
    if (d.length === 0) problems.push(`no results of ${fn}`)
    else if (percentile(d, 99) > budget) problems.push(`${fn}: p99 ${percentile(d, 99)} ms is over its ${budget} ms budget`)
  }
  const codes = (fn: string): Set<string> => new Set(dead.filter((r) => r.fn === fn).map((r) => String((r.data as { error?: { code?: string } }).error?.code)))
  if (!codes('bomb').has('LAMBKIN_MEMORY_LIMIT')) problems.push(`the memory bomb never hit its cap (dead letters: ${[...codes('bomb')].join(', ')})`)
  if (!codes('spin').has('LAMBKIN_TIMEOUT')) problems.push(`the busy loop never timed out (dead letters: ${[...codes('spin')].join(', ')})`)
  if (!records.some((r) => r.kind === 'log' && r.fn === 'flood')) problems.push('no log of the flood reached the cloud')
  return problems
}

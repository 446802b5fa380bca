// Agent-wide counters and gauges that other parts bump by name (outbox drops, sensor errors,
// wire rejects). Each metric is registered once with its HELP text, type and label names.
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { assertLabelNames, assertMetricName, formatLabels, formatValue, headerLines } from './exposition.js'
import type { Labels } from './exposition.js'
import type { SeriesFigure } from './types.js'

export const METRIC_PREFIX = 'lambkin_'

export interface MetricDefinition {
  type: 'counter' | 'gauge'
  help: string
  /** The label names every sample of this metric carries, in output order. */
  labelNames?: readonly string[]
}

interface Series { labels: Labels, value: number, reported: number }
interface Family {
  name: string
  type: 'counter' | 'gauge'
  help: string
  labelNames: readonly string[]
  series: Map<string, Series>
  /** The label values (in labelNames' order) and series of the last call: a repeat builds no key. */
  lastValues: string[] | undefined
  lastSeries: Series | undefined
}

/** `outbox_dropped_total` and `lambkin_outbox_dropped_total` name the same metric. */
export function fullName (name: string): string {
  return name.startsWith(METRIC_PREFIX) ? name : METRIC_PREFIX + name
}

export class AgentSeries {
  private readonly families = new Map<string, Family>()
  /** Series refused by the cardinality cap, by metric; itself capped by the number of metrics. */
  private readonly dropped = new Map<string, number>()
  /** Families by the name inc() and set() were given (with or without the prefix), filled on first use. */
  private readonly byGivenName = new Map<string, Family>()

  constructor (private readonly reserved: ReadonlySet<string>, private readonly maxSeriesPerMetric: number) {}

  register (name: string, def: MetricDefinition): void {
    const full = fullName(name)
    assertMetricName(full)
    if (this.reserved.has(full)) {
      throw new LambkinError(ErrorCodes.USAGE, `metric "${full}" is a per-function metric kept by FunctionMetrics; pick another name`, { details: { name: full } })
    }
    if (def.type !== 'counter' && def.type !== 'gauge') {
      throw new LambkinError(ErrorCodes.USAGE, `metric "${full}" must be a counter or a gauge, got ${String(def.type)}`, { details: { name: full } })
    }
    const labelNames = Object.freeze([...(def.labelNames ?? [])])
    assertLabelNames(full, Object.fromEntries(labelNames.map((l) => [l, ''])))
    const existing = this.families.get(full)
    if (existing !== undefined) {
      // Registering again is how two parts share a metric; the first HELP text stays.
      if (existing.type !== def.type || existing.labelNames.join(',') !== labelNames.join(',')) {
        throw new LambkinError(ErrorCodes.USAGE, `metric "${full}" is already registered as a ${existing.type} with labels [${existing.labelNames.join(', ')}]`, { details: { name: full } })
      }
      return
    }
    this.families.set(full, { name: full, type: def.type, help: def.help, labelNames, series: new Map(), lastValues: undefined, lastSeries: undefined })
  }

  inc (name: string, labels: Labels = {}, n = 1): void {
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
      throw new LambkinError(ErrorCodes.USAGE, `counter "${fullName(name)}" can only go up by a finite amount, got ${String(n)}`, { details: { name: fullName(name) } })
    }
    const s = this.series(name, 'counter', labels)
    if (s !== undefined) s.value += n
  }

  set (name: string, labels: Labels, value: number): void {
    if (typeof value !== 'number') {
      throw new LambkinError(ErrorCodes.USAGE, `gauge "${fullName(name)}" needs a number, got ${typeof value}`, { details: { name: fullName(name) } })
    }
    const s = this.series(name, 'gauge', labels)
    if (s !== undefined) s.value = value
  }

  /**
   * The series of `labels` in metric `name`, made on first use; undefined when the metric's
   * series cap refused it. Called per message on the hot path (invocations, in-flight
   * publishes), so it builds no arrays: the map key is each label value, length-prefixed.
   */
  private series (name: string, type: 'counter' | 'gauge', labels: Labels): Series | undefined {
    let fam = this.byGivenName.get(name)
    if (fam === undefined) {
      const full = fullName(name)
      fam = this.families.get(full)
      if (fam === undefined) {
        throw new LambkinError(ErrorCodes.USAGE, `metric "${full}" is not registered; call register("${name}", { type, help, labelNames }) when the component starts`, { details: { name: full } })
      }
      this.byGivenName.set(name, fam)
    }
    if (fam.type !== type) {
      throw new LambkinError(ErrorCodes.USAGE, `metric "${fam.name}" is a ${fam.type}; use ${fam.type === 'counter' ? 'inc' : 'set'}()`, { details: { name: fam.name } })
    }
    const names = fam.labelNames
    const last = fam.lastValues
    let same = last !== undefined
    let ok = true
    for (let i = 0; i < names.length; i++) {
      const v = labels[names[i] as string]
      if (typeof v !== 'string') { ok = false; break }
      if (same && last?.[i] !== v) same = false
    }
    let own = 0
    for (const k in labels) if (Object.hasOwn(labels, k)) own++
    if (!ok || own !== names.length) {
      throw new LambkinError(ErrorCodes.USAGE, `metric "${fam.name}" takes labels [${names.join(', ')}], got [${Object.keys(labels).join(', ')}]`, { details: { name: fam.name } })
    }
    // The same labels as the last call (the common case on the hot path): no key string.
    if (same) return fam.lastSeries
    let key = ''
    for (let i = 0; i < names.length; i++) {
      const v = labels[names[i] as string] as string
      key += `${v.length}:${v}`
    }
    let s = fam.series.get(key)
    if (s === undefined) {
      if (fam.series.size >= this.maxSeriesPerMetric) {
        this.dropped.set(fam.name, (this.dropped.get(fam.name) ?? 0) + 1)
        return undefined
      }
      s = { labels: Object.freeze(Object.fromEntries(names.map((l) => [l, labels[l] as string]))), value: 0, reported: 0 }
      fam.series.set(key, s)
    }
    fam.lastValues = names.map((l) => labels[l] as string)
    fam.lastSeries = s
    return s
  }

  toText (): string {
    let out = ''
    for (const fam of this.families.values()) {
      if (fam.series.size === 0) continue
      out += headerLines(fam.name, fam.type, fam.help)
      for (const s of fam.series.values()) out += `${fam.name}${formatLabels(s.labels)} ${formatValue(s.value)}\n`
    }
    if (this.dropped.size > 0) {
      const name = `${METRIC_PREFIX}metrics_series_dropped_total`
      out += headerLines(name, 'counter', 'Label sets refused because a metric reached its series cap (maxSeriesPerMetric), by metric.')
      for (const [metric, n] of this.dropped) out += `${name}${formatLabels({ metric })} ${n}\n`
    }
    return out
  }

  /** Counters as totals, or as the change since the last delta (zero changes left out). */
  figures (delta: boolean): SeriesFigure[] {
    const out: SeriesFigure[] = []
    for (const fam of this.families.values()) {
      for (const s of fam.series.values()) {
        if (fam.type === 'gauge') {
          out.push({ name: fam.name, type: 'gauge', labels: { ...s.labels }, value: s.value })
          continue
        }
        const value = delta ? s.value - s.reported : s.value
        if (delta) s.reported = s.value
        if (!delta || value !== 0) out.push({ name: fam.name, type: 'counter', labels: { ...s.labels }, value })
      }
    }
    return out
  }
}

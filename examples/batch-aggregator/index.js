// Turns a batch of energy meter readings ({ "kwh": cumulative counter, "w": power now }) into
// one summary per meter, emitted to the cloud: what each meter used over the batch, and its
// power's min, mean and max. A counter that went down (a meter reset) counts from zero again.
export default function (event, ctx) {
  const meters = new Map()
  for (const r of event.records) {
    const p = r.payload
    if (p === null || typeof p !== 'object' || typeof p.kwh !== 'number' || typeof p.w !== 'number') continue
    const meter = r.topic.split('/')[1]
    const m = meters.get(meter)
    if (m === undefined) {
      meters.set(meter, { meter, readings: 1, usedKwh: 0, lastKwh: p.kwh, minW: p.w, maxW: p.w, sumW: p.w, from: r.time, to: r.time })
      continue
    }
    m.usedKwh += p.kwh >= m.lastKwh ? p.kwh - m.lastKwh : p.kwh
    m.lastKwh = p.kwh
    m.readings++
    m.minW = Math.min(m.minW, p.w)
    m.maxW = Math.max(m.maxW, p.w)
    m.sumW += p.w
    m.to = r.time
  }
  const summaries = [...meters.values()].map(({ lastKwh, sumW, ...m }) => ({
    ...m,
    usedKwh: Math.round(m.usedKwh * 1000) / 1000,
    meanW: Math.round(sumW / m.readings)
  }))
  for (const s of summaries) ctx.emit({ kind: 'energy-summary', ...s })
  return { records: event.records.length, skipped: event.records.length - summaries.reduce((n, s) => n + s.readings, 0), meters: summaries.length }
}

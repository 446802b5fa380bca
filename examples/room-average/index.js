// Averages batches of humidity readings per room using the shared "stats" layer.
import { mean, round } from 'stats'

export default function (event, ctx) {
  const byRoom = {}
  for (const r of event.records) {
    const room = r.topic.split('/')[1]
    const v = typeof r.payload === 'number' ? r.payload : r.payload?.value
    if (typeof v === 'number') (byRoom[room] ??= []).push(v)
  }
  const out = {}
  for (const [room, values] of Object.entries(byRoom)) out[room] = { mean: round(mean(values), 2), n: values.length }
  ctx.emit({ kind: 'humidity-summary', rooms: out })
  return out
}

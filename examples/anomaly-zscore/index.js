// Flags readings more than Z standard deviations from a machine's running mean. The mean and
// variance are Welford running sums (the shared "stats" layer) in ctx.state, so nothing but
// three numbers per machine is kept; an anomaly is reported and left out of the baseline.
import { welford, stddev, round } from 'stats'

export default function (event, ctx) {
  const value = typeof event.payload === 'number' ? event.payload : event.payload?.value
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`no numeric reading in ${JSON.stringify(event.payload)}`)
  const where = event.topic.split('/')[1]
  const acc = ctx.state[where] ?? { n: 0, mean: 0, m2: 0 }
  const sd = stddev(acc)
  const z = acc.n >= Number(ctx.env.MIN_SAMPLES) && sd > 0 ? (value - acc.mean) / sd : 0
  const anomaly = Math.abs(z) >= Number(ctx.env.Z)
  if (anomaly) {
    ctx.publish(`anomalies/${where}`, { where, value, z: round(z, 2), mean: round(acc.mean, 3), stddev: round(sd, 3) }, { qos: 1 })
    ctx.log('anomaly', where, value, 'z', round(z, 2))
  } else {
    ctx.state[where] = welford(acc, value)
  }
  return { where, value, z: round(z, 2), anomaly }
}

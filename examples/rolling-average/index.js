// A moving average of the last WINDOW readings per room, kept in ctx.state: state is committed
// with the result, so the window survives restarts and a sandbox being recycled.
export default function (event, ctx) {
  const value = typeof event.payload === 'number' ? event.payload : event.payload?.value
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`no numeric reading in ${JSON.stringify(event.payload)}`)
  const where = event.topic.split('/')[1]
  const size = Math.max(1, Number(ctx.env.WINDOW) || 10)
  const windows = ctx.state.windows ?? {}
  const window = [...(windows[where] ?? []), value].slice(-size)
  ctx.state.windows = { ...windows, [where]: window }
  const average = window.reduce((a, b) => a + b, 0) / window.length
  return { where, value, average: Math.round(average * 100) / 100, n: window.length }
}

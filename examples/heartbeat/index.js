// Counts its own runs in ctx.state (which survives restarts) and notes runs that fired late.
export default function (event, ctx) {
  ctx.state.beats = (ctx.state.beats ?? 0) + 1
  if (event.late) ctx.log('caught up a run missed at', new Date(event.scheduledTime).toISOString())
  ctx.emit({ beat: ctx.state.beats, scheduledTime: event.scheduledTime, late: event.late })
  return ctx.state.beats
}

// Raises an alarm when a temperature crosses THRESHOLD, and clears it when it falls back.
// Works for MQTT readings (payload { value } or a bare number) and for sensor events.
export default async function (event, ctx) {
  const value = event.source === 'sensor' ? event.value : (typeof event.payload === 'number' ? event.payload : event.payload?.value)
  if (typeof value !== 'number') throw new Error(`no numeric reading in ${JSON.stringify(event.payload)}`)
  const where = event.topic?.split('/')[1] ?? event.sensor
  const limit = Number(ctx.env.THRESHOLD)
  const alarmed = ctx.state.alarmed?.[where] === true
  const hot = value >= limit
  if (hot !== alarmed) {
    ctx.state.alarmed = { ...ctx.state.alarmed, [where]: hot }
    ctx.publish(`alarms/${where}`, { where, value, limit, state: hot ? 'raised' : 'cleared' }, { qos: 1, retain: true })
    ctx.log(hot ? 'alarm raised' : 'alarm cleared', where, value)
  }
  return { where, value, hot }
}

// Switches a fan from a thermal zone's temperature with hysteresis: on at ON_C or above, off
// at OFF_C or below, and in between it stays as it was, so a temperature hovering near one
// threshold does not flap the fan. The command is retained, so a fan controller that
// reconnects gets the current one.
export default function (event, ctx) {
  const on = Number(ctx.env.ON_C)
  const off = Number(ctx.env.OFF_C)
  if (!(off < on)) throw new Error(`OFF_C (${ctx.env.OFF_C}) must be below ON_C (${ctx.env.ON_C})`)
  const temperature = event.value
  const was = ctx.state.on === true
  const now = temperature >= on ? true : temperature <= off ? false : was
  if (now !== was || ctx.state.on === undefined) {
    ctx.state.on = now
    ctx.publish(`fans/${event.sensor}/set`, { on: now, temperature }, { qos: 1, retain: true })
    ctx.log(`fan ${now ? 'on' : 'off'} at ${temperature} °C`)
  }
  return { temperature, on: now }
}

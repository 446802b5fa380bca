// The smallest function: greets whoever the event names.
export default async function (event, ctx) {
  ctx.log('invoked by', event.source)
  return { message: `${ctx.env.GREETING}, ${event.name ?? 'world'}`, device: ctx.deviceId }
}

// Answers MQTT 5 requests (section 4.10): a request carries a Response Topic and Correlation
// Data, which arrive as event.responseTopic and event.correlationData (base64); the reply goes
// to that topic with the same correlation data, so the requester can match it to its request.
// Here the request is { "temperature": °C, "humidity": % } and the answer its dew point.
export default function (event, ctx) {
  const { temperature: t, humidity: rh } = event.payload ?? {}
  const reply = typeof t === 'number' && typeof rh === 'number' && rh > 0 && rh <= 100
    ? { dewPoint: dewPoint(t, rh) }
    : { error: 'send { "temperature": <°C>, "humidity": <% above 0, at most 100> }' }
  if (event.responseTopic === undefined) {
    ctx.log('a request without a response topic (an MQTT 3.1.1 client?): nothing to reply to')
  } else {
    ctx.publish(event.responseTopic, reply, { qos: 1, correlationData: event.correlationData })
  }
  return reply
}

// The Magnus formula (Alduchov and Eskridge 1996 coefficients), to 0.1 °C.
function dewPoint (t, rh) {
  const a = 17.625
  const b = 243.04
  const g = Math.log(rh / 100) + (a * t) / (b + t)
  return Math.round((b * g) / (a - g) * 10) / 10
}

// MQTT 5 request/response (section 4.10) through lambkin: a trigger message's Response Topic
// and Correlation Data reach the function as event.responseTopic and event.correlationData
// (base64, since correlation data is binary), and ctx.publish(topic, payload, { correlationData,
// responseTopic }) puts them on the reply. They travel with a durable publish through the
// outbox, so a reply re-sent after a restart still carries them. MQTT 3.1.1 has no properties:
// there a message brings none and a publish goes without them.
import type { TriggerMessage } from './trigger-link.js'

/** The request/response properties of a publish, as the sandbox hands them over. */
export interface RequestProps { correlationData?: string, responseTopic?: string }

/** Only the properties `p` has, so objects without them stay as they were. */
export function requestProps (p: RequestProps): RequestProps {
  const out: RequestProps = {}
  if (p.correlationData !== undefined) out.correlationData = p.correlationData
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic
  return out
}

/** The event fields a trigger message's properties give: responseTopic, correlationData (base64). */
export function requestFields (msg: Pick<TriggerMessage, 'responseTopic' | 'correlationData'>): RequestProps {
  const out: RequestProps = {}
  if (msg.responseTopic !== undefined) out.responseTopic = msg.responseTopic
  if (msg.correlationData !== undefined) out.correlationData = msg.correlationData.toString('base64')
  return out
}

/** The MQTT.js PUBLISH properties for `p` under MQTT 5 (section 3.3.2.3.5, 3.3.2.3.6). */
export function publishProperties (p: RequestProps): { responseTopic?: string, correlationData?: Buffer } {
  const out: { responseTopic?: string, correlationData?: Buffer } = {}
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic
  if (p.correlationData !== undefined) out.correlationData = Buffer.from(p.correlationData, 'base64')
  return out
}

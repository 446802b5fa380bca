// The contract between the agent and its trigger broker: what a trigger link does (subscribe,
// send, start, close) and what it hands the agent for each message it takes, whichever broker
// it came from. Two implementations: mqtt-link.ts (an MQTT broker) and embedded-link.ts (the
// agent's embedded aedes, in process).
import type { RetainHandling } from '../../src/function/index.js'
import type { OutgoingPublish } from './durable-publishes.js'

/** How the agent meets its trigger broker: over MQTT, or in-process (embedded-link.ts). */
export interface TriggerLink {
  /**
   * Records the subscriptions; subscribes now if connected, else on connect (and again on each
   * connect whose broker kept no session). `hooks` hear of each round of SUBSCRIBEs.
   */
  subscribe: (subs: Map<string, TriggerSubscription>, hooks?: SubscribeHooks) => Promise<void>
  /** True when the broker resumed the agent's session (CONNACK Session Present), so its subscriptions already exist. */
  readonly sessionPresent: boolean
  /** True when the link sees every publish, not only subscribed ones (the embedded broker). */
  readonly seesAllTopics?: boolean
  /** Hands over a committed publish (a QoS 1 one carries its store id). */
  send: (p: OutgoingPublish) => void
  /** Connects (or begins trying to) and starts sending publishes left from a previous run. */
  start: () => Promise<void>
  stopAccepting: () => void
  close: () => Promise<void>
}

/**
 * One MQTT message as a trigger link received it (MQTT 5 section 3.3; 3.1.1 has no properties).
 * `payload` is the exact bytes; `retain` is set when the broker sent a message from its retained
 * store because the agent subscribed (MQTT 3.1.1 section 3.3.1.3, MQTT 5 section 3.3.1.3 with
 * Retain As Published off), never for a message published while subscribed;
 * `userProperties` are MQTT 5 user properties, if any.
 */
export interface TriggerMessage {
  topic: string
  payload: Buffer
  qos: 0 | 1 | 2
  retain: boolean
  userProperties?: Record<string, string | string[]>
  /** MQTT 5 Response Topic and Correlation Data (section 4.10), when the message has them. */
  responseTopic?: string
  correlationData?: Buffer
  /** Where a QoS 1 message came from within its broker session (processed once). */
  origin?: MessageOrigin
}

/**
 * A QoS 1 message's identity within the broker session it came in (device/triggers/mqtt/
 * processed-once.ts): a message sent again keeps its packet id within the session
 * (MQTT 3.1.1 section 4.4, MQTT 5 section 4.4).
 */
export interface MessageOrigin {
  /** The session: the trigger link's own (broker URL and client id), or a sensor's client id on the embedded broker. */
  session: string
  /** The connection it came in on, counted by the link from 1 in this process. */
  connection: number
  /** Whether that connection carried the session on (Session Present; a sensor that did not start clean). */
  resumed: boolean
  /** Whether the session outlives the connection (clean session 0): a clean one is never sent again, so nothing is marked. */
  persistent: boolean
  packetId: number
  /** The DUP flag: the sender says it may have sent this message before. */
  dup: boolean
  /**
   * PUBACKs the link has written in this session so far, by packet id, counted as each leaves
   * for MQTT.js (mqtt-link.ts). Absent where the link does not count them (the embedded broker).
   * A copy on a later connection whose id has had no PUBACK since the first copy was taken is
   * certainly that message sent again (processed-once.ts).
   */
  pubacks?: ReadonlyMap<number, number>
}

/** Called by a trigger link for every message; settles once the message's effects are durable. */
export type OnTriggerMessage = (msg: TriggerMessage) => Promise<void>

/** What a trigger link is asked to subscribe per filter: QoS and MQTT 5 Retain Handling (section 3.8.3.1). */
export interface TriggerSubscription { qos: 0 | 1, retainHandling: RetainHandling }

/**
 * What the router hears from a trigger link around each round of SUBSCRIBEs (at connect when
 * the broker kept no session, or when the filters change): `prepare` before the first SUBSCRIBE,
 * with the CONNACK's Session Present, so retained messages the round brings meet the right
 * rules; `done` after the SUBACKs, with the filters granted and, if some were refused, a
 * LAMBKIN_SUBSCRIBE_REFUSED error naming them. A rejection from either is logged and the
 * round is made again on the next connect.
 */
export interface SubscribeHooks {
  prepare?: (sessionPresent: boolean) => Promise<void>
  done?: (granted: string[], refused: (Error & { code: string }) | undefined) => Promise<void>
}

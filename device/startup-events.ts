// The agent's 'invocation' and 'publish' events (agent.ts) for what happens while Agent.create
// is still starting. The trigger link connects in the middle of the start steps, and a broker
// that resumed the agent's session hands over the QoS 1 messages it kept at once (MQTT 5
// section 4.4; a schedule's catch-up runs then too): those invocations used to end before the
// agent's own observer was in the invoker's list, so no 'invocation' event was ever emitted for
// them, and `lambkin device` printed no line for them. They are now held, in order, and emitted
// on the first turn after create resolved, so a listener attached right after
// `await Agent.create()` hears every invocation and publish.
import type { EventEmitter } from 'node:events'
import type { InvocationObserver } from './invoke/invoker.js'

/** An agent event: an ended invocation (InvocationRecord) or a committed publish ({ topic, payload }). */
export type AgentEvent = 'invocation' | 'publish'

export class StartupEvents {
  readonly #agent: EventEmitter
  /** Events held until start-up ends; undefined once they were emitted. */
  #held: Array<[AgentEvent, unknown]> | undefined = []
  #started = false

  constructor (agent: EventEmitter) {
    this.#agent = agent
  }

  /** The invoker's first observer: hears the invocations that end before start-up is done. */
  readonly whileStarting: InvocationObserver = (rec) => { if (!this.#started) this.emit('invocation', rec) }

  /** Emits `event` on the agent, or holds it while start-up has not ended. */
  emit (event: AgentEvent, arg: unknown): void {
    if (this.#held === undefined) this.#agent.emit(event, arg)
    else this.#held.push([event, arg])
  }

  /**
   * Start-up is done: appends the observer for later invocations to `observers` (last, so the
   * agent's listeners hear of an invocation after its parts have), and on the next turn
   * (setImmediate) emits what was held, then everything as it comes, in order.
   */
  started (observers: InvocationObserver[]): void {
    this.#started = true
    observers.push((rec) => { this.emit('invocation', rec) })
    setImmediate(() => {
      const held = this.#held ?? []
      this.#held = undefined
      for (const [event, arg] of held) this.#agent.emit(event, arg)
    })
  }
}

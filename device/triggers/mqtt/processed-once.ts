// Processed once (DESIGN section 6; docs/architecture.md, "Durability"): a QoS 1 message the
// broker or sensor sends again because its PUBACK was lost, whose outcome is already committed,
// is acknowledged without running its function again.
//
// Each run's commit carries a mark (a meta key, so it lands in the same LevelDB batch as the
// outcome): the message's packet id and a hash of its topic and payload, under its session
// (the trigger link's own, or a sensor's on the embedded broker), the trigger route, and the
// connection it came in on. A mark sits in slot `packetId % SLOTS`, so a session keeps only
// its last SLOTS messages (packet ids are handed out in turn by Mosquitto, aedes and MQTT.js,
// and wrap at 65535; more than SLOTS PUBACKs lost in one blip are run again, never lost). A
// session that starts clean (no Session Present, or a sensor's clean start) forgets its marks,
// and a sensor's clean session marks nothing (its messages are not sent again later).
//
// A copy with the same packet id and hash is taken as sent again when:
// - its DUP flag is set (MQTT 3.1.1 section 3.3.1.1; Mosquitto sets it), or
// - it is among the first messages of a connection that resumed the session, before any
//   message without a mark, and its mark is from the connection before (aedes and MQTT.js send
//   again without DUP, first thing after they reconnect, MQTT 3.1.1 section 4.4); a copy skipped
//   in a later connection moves its mark to that connection (in memory and on disk), so a message
//   whose PUBACK is lost in two cuts in a row is known in both replays, and a connection cut
//   before its replay ended hands the next one the connections it knew as well;
// - or the first copy's commit is still under way (its PUBACK has not left, so the id is not free);
// - or it comes on a later connection of a resumed session, anywhere in it, and the link wrote no
//   PUBACK for that packet id since it took the first copy (MessageOrigin.pubacks): the id is still
//   in use, so the sender cannot have given it to a new message (MQTT 3.1.1 section 2.3.1, MQTT 5
//   section 2.2.1). Marks loaded after a restart, or from a link that does not count its PUBACKs
//   (the embedded broker), have only the rules above.
// Otherwise it is a new message that happens to reuse an id, and runs.
import { createHash, hash as oneShot, randomUUID } from 'node:crypto'
import type { MetaWrite, OutboxStore } from '../../store/index.js'
import type { MessageOrigin } from '../../links/trigger-link.js'

/** Marks kept per session and route: the last SLOTS packet ids. */
export const SLOTS = 1024
/** Sessions remembered; past it the one seen longest ago forgets its marks. */
export const MAX_SESSIONS = 256
/** Connections a replay knows marks of, at most: more cuts in a row, each before a new message came, forget the oldest. */
export const MAX_REPLAYED_CONNECTIONS = 16
/** Meta keys of marks: `once:<session>:<slot>:<route>` (device/store/meta-keys.ts owns the others). */
export const MARK_PREFIX = 'once:'

/** What a mark stores. */
interface StoredMark { i: number, h: string, k: string, n: number }
/**
 * `pending` while the mark's commit is under way, with the copies waiting to hear how it went
 * (made only when one comes: most marks settle with nobody asking).
 */
interface Mark extends StoredMark {
  pending?: Array<(ok: boolean) => void>
  /** The link's PUBACK counts (MessageOrigin.pubacks) and this id's count when the message was taken; not stored. */
  p?: ReadonlyMap<number, number>
  w?: number
}

/** `pending` of a mark whose commit is under way and that no copy waits on yet: shared, replaced by an array of its own at the first waiter. */
const NO_WAITERS = Object.freeze([]) as unknown as Array<(ok: boolean) => void>

/** Whether the link wrote no PUBACK for the mark's packet id since it took the marked message. */
const neverAcked = (m: Mark): boolean => m.p !== undefined && (m.p.get(m.i) ?? 0) === m.w

interface Session {
  /** slot -> route -> mark */
  marks: Map<number, Map<string, Mark>>
  /**
   * The connection messages come in on now, and the connections whose marks its replay knows:
   * the one the newest mark before it came in on, and those a connection cut during its own
   * replay knew.
   */
  current: string | undefined
  previous: Set<string>
  /** The connection of the newest mark taken (its commit may still be under way). */
  lastConn: string | undefined
  /** Still among the first messages of a resumed connection, all sent again so far. */
  replaying: boolean
  n: number
  seen: number
}

export type Decision = 'run' | 'skip'

/** One message's identity; asked once per matching route. */
export interface Ticket {
  /** Whether this route's outcome of the message is committed already (a promise while its first copy commits). */
  decide: (route: string) => Decision | Promise<Decision>
  /**
   * The mark to commit with this route's outcome; call settled() with whether the commit
   * succeeded. Only its first call counts: once a commit said it succeeded, a later failure
   * (a publish or an observer that threw after it) leaves the mark, which is on disk.
   */
  mark: (route: string) => { meta: () => MetaWrite[], settled: (committed: boolean) => void }
}

/** A message of a clean session: never sent again in a later connection, so nothing to mark. */
const UNMARKED: Ticket = Object.freeze({ decide: () => 'run' as const, mark: () => ({ meta: () => [], settled: () => {} }) })

/** The first 16 hex digits of a SHA-256. */
const short = (s: string): string => createHash('sha256').update(s).digest().toString('hex', 0, 8)

/**
 * A message's identity in its mark: the first 16 hex digits of SHA-256 over
 * `<topic's UTF-8 length>:<topic><payload>`. One buffer and Node's one-shot hash (crypto.hash):
 * about half the CPU of a Hash object fed twice, and the same digest, so marks stored by
 * earlier versions still match.
 */
export function messageHash (topic: string, payload: Uint8Array): string {
  const head = `${Buffer.byteLength(topic)}:${topic}`
  const headBytes = Buffer.byteLength(head)
  const buf = Buffer.allocUnsafe(headBytes + payload.length)
  buf.write(head, 0, headBytes, 'utf8')
  buf.set(payload, headBytes)
  // Hex straight from the hash, then cut: 0.5 us against 1.7 for a digest Buffer turned into hex (same digits).
  return oneShot('sha256', buf, 'hex').slice(0, 16)
}

/** A trigger route's name in marks: its function, its place in the manifest and its filter. */
export function routeKey (fn: string, index: number, filter: string): string {
  return short(`${fn}\u0000${index}\u0000${filter}`)
}

export class ProcessedOnce {
  readonly #store: OutboxStore
  readonly #sessions = new Map<string, Session>()
  /** Connection keys are unique across restarts: this run's id, then the link's number. */
  readonly #run = randomUUID().slice(0, 8)
  #clock = 0
  /** The last MessageOrigin.connection taken and its key (`<run>-<connection>`). */
  #connNumber: number | undefined
  #connKey = ''
  /** short() of each session name seen, so a message's own hash is the only one it pays for; cleared past 2 * MAX_SESSIONS names. */
  readonly #sids = new Map<string, string>()
  readonly #log: (line: string) => void

  private constructor (store: OutboxStore, log: (line: string) => void) {
    this.#store = store
    this.#log = log
  }

  /** Loads the marks committed before this start. */
  static async load (store: OutboxStore, log: (line: string) => void = () => {}): Promise<ProcessedOnce> {
    const once = new ProcessedOnce(store, log)
    for (const { key, value } of await store.metaEntries(MARK_PREFIX)) {
      const [, session, slot, route] = key.split(':')
      const v = value as StoredMark
      if (route === undefined || typeof v !== 'object' || v === null || typeof v.h !== 'string') continue
      const s = once.#session(session)
      let bySlot = s.marks.get(Number(slot))
      if (bySlot === undefined) s.marks.set(Number(slot), bySlot = new Map())
      bySlot.set(route, { i: v.i, h: v.h, k: v.k, n: v.n })
      if (v.n >= s.n) { s.n = v.n + 1; s.lastConn = v.k }
    }
    return once
  }

  /** How many marks are held (all sessions). */
  get size (): number {
    let n = 0
    for (const s of this.#sessions.values()) for (const m of s.marks.values()) n += m.size
    return n
  }

  /** Takes a QoS 1 message in: notes a new connection of its session, and returns its ticket. */
  take (origin: MessageOrigin, topic: string, payload: Uint8Array): Ticket {
    let sid = this.#sids.get(origin.session)
    if (sid === undefined) {
      if (this.#sids.size >= 2 * MAX_SESSIONS) this.#sids.clear()
      this.#sids.set(origin.session, sid = short(origin.session))
    }
    const s = this.#session(sid)
    s.seen = ++this.#clock
    // The connection's key, built once per connection rather than per message.
    if (this.#connNumber !== origin.connection) {
      this.#connNumber = origin.connection
      this.#connKey = `${this.#run}-${origin.connection}`
    }
    const conn = this.#connKey
    if (s.current !== conn) this.#connected(sid, s, conn, origin.resumed)
    if (!origin.persistent) return UNMARKED
    const slot = origin.packetId % SLOTS
    const hash = messageHash(topic, payload)
    // The first message of a resumed connection that no mark of the connection before knows
    // is a new one: from there on only DUP says "sent again".
    // A copy of a message never acknowledged is sent again wherever it comes: it leaves the window open.
    if (s.replaying) {
      let known = false
      for (const m of s.marks.get(slot)?.values() ?? []) {
        if (m.i === origin.packetId && m.h === hash && (s.previous.has(m.k) || m.pending !== undefined || (m.k !== conn && neverAcked(m)))) known = true
      }
      if (!known) s.replaying = false
    }
    return new MessageTicket(s, sid, slot, origin, hash, conn, s.replaying, origin.pubacks?.get(origin.packetId) ?? 0, this.#rewrite)
  }

  #session (sid: string): Session {
    let s = this.#sessions.get(sid)
    if (s === undefined) {
      if (this.#sessions.size >= MAX_SESSIONS) this.#evictOldest()
      s = { marks: new Map(), current: undefined, previous: new Set(), lastConn: undefined, replaying: false, n: 1, seen: ++this.#clock }
      this.#sessions.set(sid, s)
    }
    return s
  }

  /** A new connection of a session: a clean start forgets its marks; a resumed one may replay. */
  #connected (sid: string, s: Session, conn: string, resumed: boolean): void {
    s.current = conn
    // Still replaying: the connection before was cut before a new message came, so what the
    // broker sends again may still be marked on the ones it knew.
    if (!s.replaying) s.previous = new Set()
    if (s.lastConn !== undefined) s.previous.add(s.lastConn)
    // A link that keeps being cut while the same message is sent again: the oldest go first.
    for (const k of s.previous) if (s.previous.size > MAX_REPLAYED_CONNECTIONS) s.previous.delete(k)
    s.replaying = resumed && s.lastConn !== undefined
    if (!resumed) { s.previous.clear(); this.#forget(sid, s) }
  }

  /** Whether the last rewrite failed: a store that refuses writes logs once, not once per copy of a replay. */
  #rewriteFailed = false

  /** Writes a mark moved to a later connection (MessageTicket.decide); a failed write leaves the older one on disk, logged. */
  readonly #rewrite = (meta: MetaWrite[]): void => {
    this.#store.commit({ meta }).then(() => { this.#rewriteFailed = false }, (err: Error) => {
      if (!this.#rewriteFailed) this.#log(`processed-once mark of a message sent again not moved on disk (a restart may run it again if it comes once more): ${err.message}`)
      this.#rewriteFailed = true
    })
  }

  #forget (sid: string, s: Session): void {
    const meta: MetaWrite[] = []
    for (const [slot, byRoute] of s.marks) {
      for (const [route, m] of byRoute) if (m.pending === undefined) meta.push({ key: `${MARK_PREFIX}${sid}:${slot}:${route}`, value: null })
    }
    for (const byRoute of s.marks.values()) for (const [route, m] of byRoute) if (m.pending === undefined) byRoute.delete(route)
    if (meta.length === 0) return
    // Pushed before any commit of the new session's messages, so the store writes it first.
    this.#store.commit({ meta }).catch((err: Error) => this.#log(`processed-once marks of a session that started clean not removed: ${err.message}`))
  }

  #evictOldest (): void {
    let oldest: [string, Session] | undefined
    for (const e of this.#sessions) if (oldest === undefined || e[1].seen < oldest[1].seen) oldest = e
    if (oldest === undefined) return
    this.#forget(oldest[0], oldest[1])
    this.#sessions.delete(oldest[0])
  }
}

/**
 * A message's ticket (the Ticket of ProcessedOnce.take): a class, not closures, as one is made
 * per relayed QoS 1 message.
 */
class MessageTicket implements Ticket {
  constructor (
    readonly s: Session,
    readonly sid: string,
    readonly slot: number,
    readonly origin: MessageOrigin,
    readonly hash: string,
    readonly conn: string,
    readonly replay: boolean,
    /** The link's PUBACK count of this packet id when the message was taken (MessageOrigin.pubacks). */
    readonly acks: number,
    /** Writes a moved mark (ProcessedOnce's store). */
    readonly rewrite: (meta: MetaWrite[]) => void
  ) {}

  decide (route: string): Decision | Promise<Decision> {
    const m = this.s.marks.get(this.slot)?.get(route)
    if (m === undefined || m.i !== this.origin.packetId || m.h !== this.hash) return 'run'
    if (m.pending !== undefined) {
      const waiters = m.pending === NO_WAITERS ? (m.pending = []) : m.pending
      return new Promise<boolean>((resolve) => { waiters.push(resolve) }).then((ok) => ok ? this.#skip(route, m) : 'run')
    }
    if (this.origin.dup || (this.replay && this.s.previous.has(m.k))) return this.#skip(route, m)
    return this.origin.resumed && m.k !== this.conn && neverAcked(m) ? this.#skip(route, m) : 'run'
  }

  /**
   * A copy taken as sent again on a later connection than its mark's: the mark moves to this
   * connection, whose PUBACK of it may be lost in turn, so the next replay knows it (the window
   * rule looks at the connection before, and the PUBACK counts at this connection's).
   */
  #skip (route: string, m: Mark): 'skip' {
    const s = this.s
    if (m.k === this.conn || s.marks.get(this.slot)?.get(route) !== m) return 'skip'
    m.k = this.conn
    m.n = s.n++
    m.p = this.origin.pubacks
    m.w = this.acks
    s.lastConn = this.conn
    this.rewrite([{ key: `${MARK_PREFIX}${this.sid}:${this.slot}:${route}`, value: { i: m.i, h: m.h, k: m.k, n: m.n } }])
    return 'skip'
  }

  mark (route: string): MarkHandle {
    const s = this.s
    const before = this.#bySlot().get(route)
    const mark: Mark = { i: this.origin.packetId, h: this.hash, k: this.conn, n: s.n++, pending: NO_WAITERS, p: this.origin.pubacks, w: this.acks }
    this.#bySlot().set(route, mark)
    s.lastConn = this.conn
    return new MarkHandle(this, route, mark, before)
  }

  /** The slot's marks by route, made when missing. */
  #bySlot (): Map<string, Mark> {
    let b = this.s.marks.get(this.slot)
    if (b === undefined) this.s.marks.set(this.slot, b = new Map())
    return b
  }

  /** After the mark's commit: an unwritten or failed one gives the slot back to the mark before it. */
  settle (route: string, mark: Mark, before: Mark | undefined, ok: boolean): void {
    const waiters = mark.pending ?? NO_WAITERS
    // Cleared, not deleted: a delete turns the mark into a slower dictionary-mode object.
    mark.pending = undefined
    if (!ok) {
      const bySlot = this.#bySlot()
      if (bySlot.get(route) === mark) {
        if (before === undefined) bySlot.delete(route)
        else bySlot.set(route, before)
      }
    }
    for (const w of waiters) w(ok)
  }
}

/** One route's mark of a message: its meta write, and settled() once the commit went one way or the other. */
class MarkHandle {
  #written = false
  #settled = false
  constructor (readonly t: MessageTicket, readonly route: string, readonly mark: Mark, readonly before: Mark | undefined) {}

  meta = (): MetaWrite[] => {
    this.#written = true
    const m = this.mark
    return [{ key: `${MARK_PREFIX}${this.t.sid}:${this.t.slot}:${this.route}`, value: { i: m.i, h: m.h, k: m.k, n: m.n } }]
  }

  settled (committed: boolean): void {
    if (this.#settled) return
    this.#settled = true
    this.t.settle(this.route, this.mark, this.before, committed && this.#written)
  }
}

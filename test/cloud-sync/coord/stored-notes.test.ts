// Notes of stored records (coord/stored-notes.ts) over the embedded cloud's bus: a burst of stores
// is coalesced into few notes naming every device; a follower's watch wakes on its device's note,
// also one that came before it waited; while the bus is down it polls fast and the instance's own
// stores still wake it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LocalBus } from '../../../cloud-sync/coord/bus.js'
import type { BusTopic } from '../../../cloud-sync/coord/bus.js'
import { StoredNotes } from '../../../cloud-sync/coord/stored-notes.js'

/** The embedded bus, with the notes it carried seen and a switch for "down" (publish refused, as PgCoordinator's is). */
class SeenBus extends LocalBus {
  readonly sent: string[] = []
  down = false
  override publish (topic: BusTopic, payload: string): boolean {
    if (this.down) return false
    if (topic === 'stored') this.sent.push(payload)
    return super.publish(topic, payload)
  }

  override up (): boolean { return !this.down }
}

const tick = async (ms = 0): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
/** Resolves to whether `p` settled within `ms` (a bound for a test that would otherwise hang, not a timing). */
const within = async (p: Promise<void>, ms: number): Promise<boolean> => await Promise.race([p.then(() => true), tick(ms).then(() => false)])

test('a burst of stores of many devices is a few notes naming each device; hostile ids pass as ids', async () => {
  const bus = new SeenBus()
  const notes = new StoredNotes({ bus, coalesceMs: 20 })
  try {
    const ids = ['constructor', '__proto__', ...Array.from({ length: 2000 }, (_, i) => `dev-${i}`)]
    for (const id of ids) notes.stored(id)
    for (const id of ids) notes.stored(id)
    await tick(100)
    const named = bus.sent.flatMap((n) => n.split(' '))
    assert.equal(new Set(named), new Set(ids))
    assert.ok(bus.sent.length <= 6, `${bus.sent.length} notes for ${ids.length * 2} stores`)
    for (const n of bus.sent) assert.ok(Buffer.byteLength(n) <= 7000)
  } finally {
    notes.close()
  }
})

test('a watch wakes on its device\'s note, not another device\'s, and takes a note that came before it waited', async () => {
  const bus = new SeenBus()
  const notes = new StoredNotes({ bus, coalesceMs: 5, slowPollMs: 60_000 })
  const w = notes.watch('gh-01')
  const early = notes.watch('gh-01')
  try {
    const waiting = w.next(60_000)
    notes.stored('gh-02')
    assert.not.ok(await within(waiting, 100), 'another device\'s store does not wake it')
    notes.stored('gh-01')
    assert.ok(await within(waiting, 1000), 'woken while waiting')
    // `early` was not waiting when that note came: its next wait ends at once, and the note is used once.
    assert.ok(await within(early.next(60_000), 1000))
    assert.not.ok(await within(early.next(60_000), 100))
  } finally {
    w.close()
    early.close()
    notes.close()
  }
})

test('the bus down: the instance\'s own stores still wake its followers, and a follower polls at the fast period', async () => {
  const bus = new SeenBus()
  const notes = new StoredNotes({ bus, coalesceMs: 5, slowPollMs: 60_000, fastPollMs: 20 })
  const w = notes.watch('gh-01')
  try {
    bus.down = true
    assert.ok(await within(w.next(60_000), 1000), 'a wait ends at the fast poll')
    const waiting = w.next(60_000)
    await tick(5)
    notes.stored('gh-01')
    assert.ok(await within(waiting, 1000))
    assert.equal(bus.sent, [], 'nothing went on the bus')
  } finally {
    w.close()
    notes.close()
  }
})

test.run()

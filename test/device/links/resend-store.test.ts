// resend-store.ts: what MQTT.js reads back on a new connection is marked DUP; what was
// acknowledged is not read back; the packet first sent stays as it was until then.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ResendStore } from '../../../device/links/resend-store.js'

type Stored = Parameters<ResendStore['put']>[0]
type Publish = Extract<Stored, { cmd: 'publish' }>
const publish = (messageId: number): Publish => ({ cmd: 'publish', topic: `out/${messageId}`, payload: 'x', qos: 1, retain: false, dup: false, messageId })
const dupOf = (p: Stored | undefined): boolean | undefined => (p as Publish | undefined)?.dup

async function readBack (store: ResendStore): Promise<Stored[]> {
  const out: Stored[] = []
  for await (const p of store.createStream()) out.push(p as Stored)
  return out
}

test('publishes still held when a connection comes up are read back with DUP set; acknowledged ones are gone', async () => {
  const store = new ResendStore()
  const [a, b] = [publish(1), publish(2)]
  store.put(a, () => {})
  store.put(b, () => {})
  assert.is(a.dup, false, 'not marked while it has only been sent once')
  store.del({ messageId: 1 }, () => {})
  const again = await readBack(store)
  assert.equal(again.map((p) => [p.messageId, dupOf(p)]), [[2, true]])
  store.put(publish(3), () => {})
  let got: Stored | undefined
  store.get({ messageId: 3 }, (_err, p) => { got = p })
  assert.is(dupOf(got), false, 'a new publish starts unmarked')
})

test.run()

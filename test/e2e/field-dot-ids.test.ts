// An id typed as `.` or `..` (a slip, or a shell glob gone wrong) goes into the URL path of an
// operator call, where fetch's URL rules take it as a path step: `lambkin devices revoke ..`
// asked the real cloud for POST /v1/revoke and said the command was newer than the cloud, and
// `lambkin results .` said "no device records". Each command must name what was typed instead,
// as bad usage (exit 2), and never reach another route of the API.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import { runLambkin } from './fixtures/lambkin-process.js'

let f: CloudFixture

test.before(async () => {
  f = await startCloud()
  await f.addDevice('pi-1')
})

test.after(async () => {
  await f?.cleanup()
})

const COMMANDS: Array<(id: string) => string[]> = [
  (id) => ['results', id],
  (id) => ['logs', id],
  (id) => ['metrics', id],
  (id) => ['devices', 'rotate', id],
  (id) => ['devices', 'revoke', id],
  (id) => ['devices', 'clear-conflict', id],
  (id) => ['invoke', '--device', id, 'fn'],
  (id) => ['rollout', 'status', id],
  (id) => ['rollout', 'cancel', id]
]

test('`.` and `..` as a device or rollout id are named as bad usage, not sent to another route', async () => {
  const env = { LAMBKIN_API: f.cloud.api.url, LAMBKIN_TOKEN: f.token }
  for (const make of COMMANDS) {
    for (const id of ['.', '..']) {
      const args = make(id)
      const r = await runLambkin(args, { env })
      const what = `lambkin ${args.join(' ')}: ${r.stderr}`
      assert.is(r.code, 2, what)
      assert.match(r.stderr, /^LAMBKIN_USAGE: /, what)
      assert.ok(r.stderr.includes(`"${id}"`), what)
      assert.not.match(r.stderr, /newer than the cloud|no device (records|metrics)|no rollout ;/, what)
    }
  }
  // Nothing was revoked or rotated on the way: pi-1 is still there, not revoked.
  const list = await f.api<{ devices: Array<{ id: string, revokedAt?: number }> }>('GET', '/v1/devices')
  assert.equal(list.body.devices.map((d) => [d.id, d.revokedAt ?? null]), [['pi-1', null]])
})

test.run()

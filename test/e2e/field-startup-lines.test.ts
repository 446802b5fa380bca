// `lambkin device` restarted while its broker kept QoS 1 messages for it (a resumed MQTT 5
// session): the messages run as soon as the trigger link connects, inside the agent's start.
// Their console lines ("[fn] ok", "[publish] ...") must print like any other; they were lost
// when the invocation ended before start-up did (device/startup-events.ts). Real Mosquitto and
// a real `lambkin device` process; the relay (test/helpers/suback-hold.ts) makes the invocation
// end inside the start, every run.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { mosquittoMissing, startMosquitto } from '../helpers/brokers.js'
import { subackAfterPuback } from '../helpers/suback-hold.js'
import { startLambkin, writeFunctions } from './fixtures/lambkin-process.js'

const missing = mosquittoMissing()

test('lambkin device prints the invocation and publish lines of messages its broker kept while it was stopped', async () => {
  if (missing !== undefined) { console.log(`skipped: ${missing}`); return }
  const broker = await startMosquitto()
  const relay = await subackAfterPuback(broker.port)
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-startup-lines-'))
  try {
    const functions = writeFunctions(path.join(root, 'functions'), {
      echo: {
        manifest: { triggers: [{ mqtt: 'jobs/+', qos: 1 }], permissions: { publish: ['done/#'] } },
        code: 'export default (e, ctx) => { ctx.publish("done/" + e.topic, "y"); return e.topic }'
      }
    })
    const args = ['device', '--id', 'startup-lines', '--data', path.join(root, 'data'), '--functions', functions, '--mqtt', relay.url]
    const first = startLambkin(args)
    await first.waitFor('stdout', /lambkin device startup-lines ready/)
    assert.equal(await first.stop('SIGTERM'), { code: 0, signal: null }, first.stderr())
    const c = await mqtt.connectAsync(broker.url)
    await c.publishAsync('jobs/while-away', 'x', { qos: 1 })
    await c.endAsync()
    relay.hold()
    const again = startLambkin(args)
    try {
      await again.waitFor('stderr', /\(session resumed\)/)
      await again.waitFor('stdout', /lambkin device startup-lines ready/)
      assert.is(relay.pubacks(), 1, 'the kept message ran and was acknowledged while the agent started')
      await again.waitFor('stderr', /\[publish\] done\/jobs\/while-away y/, 10_000)
      await again.waitFor('stderr', /\[echo\] ok/, 10_000)
    } finally {
      assert.equal(await again.stop('SIGTERM'), { code: 0, signal: null }, again.stderr())
    }
  } finally {
    await relay.close()
    await broker.stop()
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

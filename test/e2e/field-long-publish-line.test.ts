// A function publishing to a 60,000-character topic with a 100 KiB payload (both within MQTT's
// and the sandbox's caps) under `lambkin device` without --quiet, as the systemd unit runs it:
// the `[publish]` line printed the whole topic and payload, ~160 KB per publish, over
// journald's 48 KiB LineMax (split into pieces) and written to the card each time. Now each is
// cut at 200 characters with its size. The publish itself still goes out whole. A real agent
// with its embedded broker, a real MQTT client.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { startLambkin, writeFunctions } from './fixtures/lambkin-process.js'

test('a publish with a 60,000-character topic and a 100 KiB payload prints a short [publish] line, and is sent whole', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-long-publish-'))
  const p = startLambkin(['device', '--id', 'long-lines', '--data', path.join(root, 'data'), '--broker-port', '0', '--metrics-port', '0',
    '--functions', writeFunctions(path.join(root, 'functions'), {
      big: {
        manifest: { triggers: [{ mqtt: 'go', qos: 1 }], permissions: { publish: ['out/#'] } },
        code: 'export default (e, ctx) => { ctx.publish("out/" + "t".repeat(60000), "p".repeat(102400), { qos: 1 }); return "sent" }'
      }
    })])
  let c: mqtt.MqttClient | undefined
  try {
    const url = (await p.waitFor('stdout', /broker (mqtt:\/\/\S+);/))[1] as string
    c = await mqtt.connectAsync(url)
    const got = new Promise<{ topic: string, bytes: number }>((resolve) => c?.on('message', (topic, payload) => resolve({ topic, bytes: payload.length })))
    await c.subscribeAsync('out/#', { qos: 1 })
    await c.publishAsync('go', '{}', { qos: 1 })
    const sent = await got
    assert.equal(sent, { topic: 'out/' + 't'.repeat(60000), bytes: 102400 })
    await p.waitFor('stderr', /\[big\] ok/, 10_000)
    const line = p.stderr().split('\n').find((l) => l.includes('[publish]')) ?? ''
    assert.ok(line.length < 1000, `a [publish] line of ${line.length} characters`)
    assert.match(line, /\[publish\] out\/t{196}… \(60004 B\) p{200}… \(102400 B\)/)
  } finally {
    await c?.endAsync()
    await p.stop('SIGTERM')
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

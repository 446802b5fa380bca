// Every log line the cloud and the agent write holds one line of inert text (src/log-text.ts):
// a topic a device sent and a message a function threw, each carrying a newline that would
// forge a line and ANSI escapes that would recolour the operator's terminal, reach the real
// `lambkin cloud` and `lambkin device` logs escaped.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { freePort } from '../helpers/brokers.js'
import { runLambkin, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

const FORGED = '\nlambkin cloud ready: FORGED\u001b[2J\u001b[31m'
const ESC = '\u001b'

test('a topic from a device and an error a function threw reach the cloud and agent logs as one escaped line', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-log-'))
  const procs: LambkinProcess[] = []
  try {
    const [port, apiPort] = [await freePort(), await freePort()]
    const cloud = startLambkin(['cloud', '--data', path.join(root, 'cloud'), '--port', String(port), '--api-port', String(apiPort)])
    procs.push(cloud)
    const ready = await cloud.waitFor('stdout', /lambkin cloud ready: broker (\S+); api (\S+); operator token in (\S+)/)
    const env = { LAMBKIN_API: ready[2], LAMBKIN_TOKEN: readFileSync(ready[3], 'utf8').trim() }
    const added = await runLambkin(['devices', 'add', 'loud', '--json'], { env })
    assert.is(added.code, 0, added.stderr)
    const { secret } = JSON.parse(added.stdout) as { secret: string }

    const c = await mqtt.connectAsync(ready[1], { clientId: 'loud', username: 'loud', password: secret, reconnectPeriod: 0 })
    await c.publishAsync(`lambkin/v1/loud/up/x${FORGED}`, Buffer.from([0xa0]), { qos: 1 })
    await c.endAsync()
    const line = await cloud.waitFor('stderr', /^device loud: refused .*$/m)
    assert.ok(line[0].includes('\\x0alambkin cloud ready: FORGED\\x1b[2J\\x1b[31m'), line[0])
    assert.not.ok(cloud.stderr().includes(ESC), 'no raw ESC in the cloud log')
    assert.not.match(cloud.stderr(), /^lambkin cloud ready: FORGED/m)

    const functionsDir = writeFunctions(path.join(root, 'fns'), {
      shout: { manifest: { triggers: [{ schedule: '* * * * * *' }] }, code: `export default () => { throw new Error(${JSON.stringify(`boom${FORGED}`)}) }` }
    })
    const config = path.join(root, 'device.json')
    writeFileSync(config, JSON.stringify({ id: 'loud', dataDir: path.join(root, 'data'), functionsDir, invocation: { workers: 1 } }))
    const agent = startLambkin(['device', '--config', config])
    procs.push(agent)
    const failed = await agent.waitFor('stderr', /^\[shout\] LAMBKIN_FUNCTION_ERROR: .*$/m)
    assert.ok(failed[0].includes('boom\\x0alambkin cloud ready: FORGED\\x1b[2J\\x1b[31m'), failed[0])
    assert.not.ok(agent.stderr().includes(ESC), 'no raw ESC in the agent log')
    assert.not.match(agent.stderr(), /^lambkin cloud ready: FORGED/m)
  } finally {
    for (const p of procs) await p.stop('SIGTERM')
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

// A device secret pasted with a line end: an env file saved with Windows line ends (docker
// --env-file keeps the "\r") or a config file written by a script that kept the "\n". The
// secret is right but for an invisible character, so the real cloud refuses it as a wrong
// password and the agent retries for ever, its message pointing at `lambkin devices rotate`.
// The agent must refuse such a value at start, naming the key, its source and the character.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startCloud } from '../helpers/cloud.js'
import { runLambkin } from './fixtures/lambkin-process.js'

test('a cloud password, user name or data folder with a "\\r" or "\\n" is refused at start, naming the key, its source and the character', async () => {
  const f = await startCloud()
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-crlf-'))
  try {
    const secret = await f.addDevice('crlf-01')
    mkdirSync(path.join(dir, 'fns'))
    const base = ['device', '--id', 'crlf-01', '--data', path.join(dir, 'data'), '--functions', path.join(dir, 'fns'), '--broker-port', '0', '--metrics-port', '0', '--cloud', f.cloud.broker.url]
    const file = path.join(dir, 'device.json')
    writeFileSync(file, JSON.stringify({ cloud: { password: `${secret}\n` }, mqtt: { url: 'mqtt://127.0.0.1:1', username: 'sensors\r' } }))
    const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
      ['env file with CRLF', base, { LAMBKIN_CLOUD_PASSWORD: `${secret}\r` }, /config key "cloud\.password" .*"\\r".*environment variable LAMBKIN_CLOUD_PASSWORD/],
      ['config file', [...base, '--config', file], {}, /config key "(cloud\.password|mqtt\.username)" .*"\\[rn]".*in config file/],
      // The data folder from the same env file: "data\r" would be a new, empty store, and the
      // records in "data" stranded once the file is fixed.
      ['data folder from an env file with CRLF', base.filter((_, i) => i < 3 || i > 4), { LAMBKIN_CLOUD_PASSWORD: secret, LAMBKIN_DATA: `${path.join(dir, 'data')}\r` }, /config key "dataDir" .*"\\r".*environment variable LAMBKIN_DATA/],
      // The config file's own path: "cannot be read (ENOENT)" for a file that is there, the "\r"
      // in the message sending a terminal's cursor back over the path.
      ['config path from an env file with CRLF', base, { LAMBKIN_CLOUD_PASSWORD: secret, LAMBKIN_CONFIG: `${file}\r` }, /config key "config" .*"\\r".*environment variable LAMBKIN_CONFIG/]
    ]
    for (const [what, args, env, re] of cases) {
      const r = await runLambkin(args, { env, timeoutMs: 20_000 })
      assert.is(r.code, 1, `${what}: ${r.stderr}`)
      assert.match(r.stderr, /^LAMBKIN_CONFIG_INVALID: /m, what)
      assert.match(r.stderr, re, `${what}: ${r.stderr}`)
      assert.not.ok(r.stderr.includes(secret), `${what}: the secret is not echoed`)
    }
  } finally {
    await f.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()

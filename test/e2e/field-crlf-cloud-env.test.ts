// The cloud's own settings from a CRLF env file (docker --env-file keeps the "\r"):
// LAMBKIN_SIGNING_KEY read as a missing file, the "\r" in the message sending the cursor back
// over the path; LAMBKIN_DB_URL naming a database "lambkin\r" that does not exist. Each is
// refused at start, naming the variable and the character.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { runLambkin } from './fixtures/lambkin-process.js'

test('a cloud setting from the environment with a "\\r" is refused at start, naming the variable', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-crlf-cloud-'))
  try {
    const keys = await runLambkin(['keys', 'generate', '--out', dir])
    assert.is(keys.code, 0, keys.stderr)
    const cases: Array<[string, string]> = [
      ['LAMBKIN_SIGNING_KEY', `${path.join(dir, 'lambkin.key')}\r`],
      ['LAMBKIN_DB_URL', 'postgres://lambkin@127.0.0.1:1/lambkin\r']
    ]
    for (const [name, value] of cases) {
      const r = await runLambkin(['cloud', '--data', path.join(dir, 'cloud'), '--port', '0', '--api-port', '0'], { env: { [name]: value }, timeoutMs: 30_000 })
      assert.is(r.code, 1, `${name}: ${r.stdout} ${r.stderr}`)
      assert.match(r.stderr, new RegExp(`^LAMBKIN_CONFIG_INVALID: environment variable ${name} holds the control character "\\\\r"`, 'm'), `${name}: ${r.stderr}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()

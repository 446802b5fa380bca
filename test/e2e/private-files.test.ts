// Data folders are owner-only (src/private-files.ts): `lambkin cloud` and `lambkin device` make
// theirs 0700 with 0600 files, also when the folder existed before with 0755/0644 (tightened
// and said), and a private key others can read is warned about by `lambkin deploy` and
// `lambkin keys generate`.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeys } from '../../src/bundle/index.js'
import { freePort } from '../helpers/brokers.js'
import { runLambkin, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

/** Every path under `dir` (itself included) whose mode gives group or others any access. */
function open (dir: string): string[] {
  const out: string[] = []
  const walk = (p: string): void => {
    const st = lstatSync(p)
    if (st.isSymbolicLink()) return
    if ((st.mode & 0o077) !== 0) out.push(`${p} ${(st.mode & 0o777).toString(8)}`)
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(path.join(p, n))
  }
  walk(dir)
  return out
}

/** A data folder as an older lambkin (or a careless copy) left it: 0755 with a 0644 file. */
function oldFolder (dir: string): void {
  mkdirSync(path.join(dir, 'older'), { recursive: true, mode: 0o755 })
  chmodSync(dir, 0o755)
  chmodSync(path.join(dir, 'older'), 0o755)
  writeFileSync(path.join(dir, 'older', 'notes.txt'), 'x', { mode: 0o644 })
  chmodSync(path.join(dir, 'older', 'notes.txt'), 0o644)
}

test('lambkin cloud and lambkin device keep their data folders owner-only, tightening ones made before', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-private-'))
  const procs: LambkinProcess[] = []
  try {
    const cloudData = path.join(root, 'cloud')
    const deviceData = path.join(root, 'device')
    oldFolder(cloudData)
    oldFolder(deviceData)
    const [port, apiPort] = [await freePort(), await freePort()]
    const cloud = startLambkin(['cloud', '--data', cloudData, '--port', String(port), '--api-port', String(apiPort)])
    procs.push(cloud)
    const ready = await cloud.waitFor('stdout', /lambkin cloud ready: broker (\S+); api (\S+); operator token in (\S+)/)
    assert.match(cloud.stderr(), /could be read by other users; made owner-only/)
    const env = { LAMBKIN_API: ready[2], LAMBKIN_TOKEN: readFileSync(ready[3], 'utf8').trim() }
    const added = await runLambkin(['devices', 'add', 'priv', '--json'], { env })
    assert.is(added.code, 0, added.stderr)
    const { secret } = JSON.parse(added.stdout) as { secret: string }

    const functionsDir = writeFunctions(path.join(root, 'fns'), { tick: { manifest: { triggers: [{ schedule: '* * * * * *' }] }, code: 'export default () => 1' } })
    const config = path.join(root, 'device.json')
    writeFileSync(config, JSON.stringify({ id: 'priv', dataDir: deviceData, functionsDir, invocation: { workers: 1 }, cloud: { url: ready[1], password: secret, heartbeatMs: 1000 } }))
    const agent = startLambkin(['device', '--config', config])
    procs.push(agent)
    await agent.waitFor('stdout', /lambkin device priv ready/)
    assert.match(agent.stderr(), /could be read by other users; made owner-only/)
    await agent.waitFor('stderr', /\[tick\] ok/)
    // Whatever LevelDB, the registry and the outbox wrote since is owner-only too.
    assert.equal(open(cloudData), [])
    assert.equal(open(deviceData), [])
  } finally {
    for (const p of procs) await p.stop('SIGTERM')
    rmSync(root, { recursive: true, force: true })
  }
})

test('a signing key others can read is warned about by lambkin deploy and lambkin keys generate; a 0600 one is not', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-keymode-'))
  try {
    const keys = generateKeys(path.join(root, 'keys'))
    const fn = writeFunctions(path.join(root, 'fns'), { f: { code: 'export default () => 1' } })
    // No cloud answers here: the warning comes before the upload, which then fails.
    const env = { LAMBKIN_API: `http://127.0.0.1:${await freePort()}`, LAMBKIN_TOKEN: 'x'.repeat(20) }
    const quiet = await runLambkin(['deploy', path.join(fn, 'f'), '--to', 'd', '--key', keys.privateFile], { env })
    assert.is(quiet.code, 1)
    assert.not.match(quiet.stderr, /WARNING/)
    chmodSync(keys.privateFile, 0o644)
    const loud = await runLambkin(['deploy', path.join(fn, 'f'), '--to', 'd', '--key', keys.privateFile], { env })
    assert.is(loud.code, 1)
    assert.match(loud.stderr, new RegExp(`^WARNING: the signing key ${keys.privateFile} can be read by other users \\(mode 0644\\).*chmod 600`, 'm'))
    const again = await runLambkin(['keys', 'generate', '--out', path.join(root, 'keys')])
    assert.is(again.code, 1)
    assert.match(again.stderr, /^WARNING: the signing key .* can be read by other users/m)
    assert.match(again.stderr, /^LAMBKIN_KEY_INVALID: /m)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

// `lambkin deploy` refuses what would fail on a board before anything leaves the machine: a
// bad manifest, code that does not compile or throws while loading, a missing or wrong key;
// only a function that passed them reaches for the API (here, one that is not there).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeys } from '../../../src/bundle/index.js'
import { deployCommand } from '../../../cli/commands/deploy.js'
import { remoteInvokeCommand } from '../../../cli/commands/invoke-remote.js'

const root = mkdtempSync(path.join(tmpdir(), 'lambkin-deploy-cli-'))
const key = generateKeys(path.join(root, 'keys'))
let closedApi = ''

async function run (command: typeof deployCommand, args: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await command(args, { stdout: (s) => { out += s }, stderr: (s) => { err += s } })
  return { code, out, err }
}

function fn (name: string, code: string, manifest: Record<string, unknown> = { name }): string {
  const dir = path.join(root, name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'function.json'), JSON.stringify(manifest))
  writeFileSync(path.join(dir, 'index.js'), code)
  return dir
}

const deploy = async (dir: string, extra: string[] = []): Promise<{ code: number, out: string, err: string }> =>
  await run(deployCommand, [dir, '--to', 'gh-01', '--api', closedApi, '--token', 'operator-token-for-tests', '--key', key.privateFile, ...extra])

test.before(async () => {
  // A port nothing listens on: taken, then released.
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()))
  closedApi = `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`
  await new Promise<void>((resolve) => s.close(() => resolve()))
})

test.after(() => rmSync(root, { recursive: true, force: true }))

test('a function that passed every local check goes on to the API (here: LAMBKIN_CLOUD_UNAVAILABLE)', async () => {
  const r = await deploy(fn('good', 'export default () => 1'))
  assert.is(r.code, 1)
  assert.match(r.err, /^LAMBKIN_CLOUD_UNAVAILABLE: the cloud API at http:\/\/127\.0\.0\.1:\d+ did not answer/)
})

test('a bad manifest is LAMBKIN_MANIFEST_INVALID, before any network call', async () => {
  const r = await deploy(fn('bad-manifest', 'export default () => 1', { name: 'bad-manifest', limits: { timeoutMs: -1 } }))
  assert.is(r.code, 1)
  assert.match(r.err, /^LAMBKIN_MANIFEST_INVALID: /)
})

test('code that does not compile, or throws while loading, is refused by the sandbox check', async () => {
  const syntax = await deploy(fn('syntax', 'export default () => {'))
  assert.is(syntax.code, 1)
  assert.not.match(syntax.err, /CLOUD_UNAVAILABLE/)
  assert.match(syntax.err, /^LAMBKIN_[A-Z_]+: /)
  const throws = await deploy(fn('throws', 'throw new Error("init failed")\nexport default () => 1'))
  assert.is(throws.code, 1)
  assert.match(throws.err, /init failed/)
})

test('a missing or public key is LAMBKIN_KEY_INVALID; --json puts the error on stdout', async () => {
  const missing = await deploy(fn('good', 'export default () => 1'), ['--key', path.join(root, 'nope.key')])
  assert.is(missing.code, 1)
  assert.match(missing.err, /^LAMBKIN_KEY_INVALID: .*nope\.key cannot be read/)
  const pub = await deploy(fn('good', 'export default () => 1'), ['--key', key.publicFile, '--json'])
  assert.is(pub.code, 1)
  assert.is((JSON.parse(pub.out) as { error: { code: string } }).error.code, 'LAMBKIN_KEY_INVALID')
})

test('no --key, no LAMBKIN_KEY and no ./lambkin.key: the error says the key was only the default and how to name one', async () => {
  const saved = process.env.LAMBKIN_KEY
  delete process.env.LAMBKIN_KEY
  try {
    assert.not.ok(existsSync('lambkin.key'), 'a lambkin.key in the folder the tests run in')
    const r = await run(deployCommand, [fn('good', 'export default () => 1'), '--to', 'gh-01', '--api', closedApi, '--token', 't'])
    assert.is(r.code, 1)
    assert.match(r.err, /^LAMBKIN_KEY_INVALID: no signing key named \(--key or LAMBKIN_KEY\), and the default lambkin\.key .* pass --key <dir>\/lambkin\.key or set LAMBKIN_KEY/)
  } finally {
    if (saved !== undefined) process.env.LAMBKIN_KEY = saved
  }
})

test('flags that mean nothing are LAMBKIN_USAGE (exit 2)', async () => {
  const dir = fn('good', 'export default () => 1')
  for (const extra of [['--canary', '0'], ['--canary', '100'], ['--abort-at', '101'], ['--rate', '0'], ['--timeout', '0'], ['--alias', 'canary'], ['--alias', 'live', '--canary', '5']]) {
    const r = await deploy(dir, extra)
    assert.is(r.code, 2, extra.join(' '))
    assert.match(r.err, /^LAMBKIN_USAGE: /, extra.join(' '))
  }
  const noTo = await run(deployCommand, [dir])
  assert.is(noTo.code, 2)
  assert.match(noTo.err, /--to/)
})

test('invoke --device: an --event that is not JSON is LAMBKIN_USAGE; no token is LAMBKIN_USAGE', async () => {
  const bad = await run(remoteInvokeCommand, ['--device', 'gh-01', 'f', '--event', '{nope', '--token', 't', '--api', closedApi])
  assert.is(bad.code, 2)
  assert.match(bad.err, /^LAMBKIN_USAGE: --event is not valid JSON/)
  const saved = process.env.LAMBKIN_TOKEN
  delete process.env.LAMBKIN_TOKEN
  try {
    const none = await run(remoteInvokeCommand, ['--device', 'gh-01', 'f', '--api', closedApi])
    assert.is(none.code, 2)
    assert.match(none.err, /^LAMBKIN_USAGE: no operator token/)
  } finally {
    if (saved !== undefined) process.env.LAMBKIN_TOKEN = saved
  }
})

test.run()

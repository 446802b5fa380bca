// `lambkin cloud --no-plain`: the cloud runs its device broker over TLS only. The plain port
// is closed (nothing on the path can use an unencrypted link), a real agent connects over
// mqtts:// with the cloud's certificate as its CA, and a deployment reaches it; --no-plain
// without the TLS flags is bad usage. Real `lambkin cloud` child process, real agent.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from '../helpers/brokers.js'
import { deployWorld, jsonLines, until } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'
import { runLambkin } from './fixtures/lambkin-process.js'

let openssl = true
try { execFileSync('openssl', ['version'], { stdio: 'ignore' }) } catch { openssl = false }

const certDir = mkdtempSync(path.join(tmpdir(), 'lambkin-tls-only-'))
const cert = path.join(certDir, 'cert.pem')
const key = path.join(certDir, 'key.pem')

/** What a TCP connect to `port` on loopback meets: 'open', or the error code (ECONNREFUSED). */
async function probe (port: number): Promise<string> {
  return await new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => { s.destroy(); resolve('open') })
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}

test.after(() => { rmSync(certDir, { recursive: true, force: true }) })

test('--no-plain without --tls-port, --tls-cert and --tls-key is bad usage (exit 2)', async () => {
  const r = await runLambkin(['cloud', '--data', path.join(certDir, 'unused'), '--no-plain'])
  assert.is(r.code, 2)
  assert.match(r.stderr, /^LAMBKIN_USAGE: --no-plain turns the plain MQTT port off/)
})

test('TLS only: the plain port is closed, a board connects over mqtts:// and takes a deployment', async () => {
  if (!openssl) { console.log('  skipped: no openssl binary to make a test certificate'); return }
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
  const [plain, tlsPort] = [await freePort(), await freePort()]
  let w: DeployWorld | undefined
  try {
    w = await deployWorld({ cloudArgs: ['--port', String(plain), '--no-plain', '--tls-port', String(tlsPort), '--tls-cert', cert, '--tls-key', key] })
    assert.is(w.brokerUrl, `mqtts://127.0.0.1:${tlsPort}`, 'the ready line names the TLS broker')
    assert.is(await probe(plain), 'ECONNREFUSED', 'nothing listens on the plain port')
    assert.is(await probe(tlsPort), 'open')
    const board = w.agent('tls-board', await w.addDevice('tls-board'), { cloud: { caFile: cert } })
    await board.start()
    const world = w
    await until('the board online over TLS', async () => (await world.api<{ state: string, connected: boolean }>('GET', '/v1/devices/tls-board')).body.connected)
    const dir = w.fn('greeter', 'export default () => ({ over: "tls" })')
    const r = await w.lambkin(['deploy', dir, '--to', 'tls-board', '--timeout', '20', '--json'])
    assert.is(r.code, 0, r.stderr)
    assert.is(jsonLines(r.stdout).at(-1)?.ok, true)
    const inv = await w.lambkin(['invoke', '--device', 'tls-board', 'greeter', '--json'])
    assert.equal((JSON.parse(inv.stdout) as { result: unknown }).result, { over: 'tls' })
  } finally {
    await w?.cleanup()
  }
})

test.run()

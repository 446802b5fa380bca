// `lambkin broker dynsec-init` in process: the files it writes start a real Mosquitto with the
// dynamic-security plugin, whose cloud client (the printed URL) drives the plugin, while
// anonymous clients are refused; it never overwrites a site's file.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import { brokerCommand } from '../../../cli/commands/broker.js'
import { DynsecClient } from '../../../cloud-sync/broker/dynsec.js'
import { startMosquitto } from '../../helpers/brokers.js'
import { confLines, DYNSEC_PLUGIN, dynsecSkip, forMosquitto } from '../../helpers/dynsec.js'

async function run (argv: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await brokerCommand(argv, { stdout: (s) => { out += s }, stderr: (s) => { err += s } })
  return { code, out, err }
}

const skip = dynsecSkip()
if (skip !== undefined) console.log(`broker dynsec-init: the Mosquitto case is skipped: ${skip}`)

;(skip === undefined ? test : test.skip)('dynsec-init: Mosquitto starts on its files; its user and password drive the plugin; anonymous clients are refused', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-dynsec-init-'))
  chmodSync(dir, 0o755)
  const out = path.join(dir, 'site')
  const r = await run(['dynsec-init', '--out', out, '--port', '18830', '--plugin', DYNSEC_PLUGIN, '--json'])
  assert.is(r.code, 0, r.err)
  const made = JSON.parse(r.out) as { dynsecFile: string, confFile: string, url: string, username: string, password: string }
  assert.is(made.username, 'lambkin.cloud')
  assert.is(new URL(made.url).port, '18830')
  assert.is(statSync(made.dynsecFile).mode & 0o777, 0o600)
  const lines = confLines(readFileSync(made.confFile, 'utf8'))
  assert.ok(lines.includes(`plugin_opt_config_file ${made.dynsecFile}`))
  assert.ok(lines.includes('listener 18830 127.0.0.1'))
  forMosquitto(out, ['dynamic-security.json', 'lambkin.conf'])
  // The test's broker has a listener of its own on a free port; the rest is the generated config.
  const broker = await startMosquitto(lines.filter((l) => !l.startsWith('listener ')))
  try {
    const admin = await DynsecClient.connect({ url: `mqtt://${made.username}:${made.password}@127.0.0.1:${broker.port}` })
    const [list] = await admin.runAll([{ command: 'listClients' }])
    assert.equal((list.data as { clients: string[] }).clients, ['lambkin.cloud'])
    await admin.close()
    const anonymous = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 }).then(async (c) => { await c.endAsync(); return 'connected' }, (err: { code?: number }) => err.code)
    assert.is(anonymous, 135)
  } finally {
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('dynsec-init refuses to overwrite a dynamic-security.json (LAMBKIN_CONFIG_INVALID, exit 1) and keeps it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-dynsec-init-'))
  try {
    assert.is((await run(['dynsec-init', '--out', dir])).code, 0)
    const before = readFileSync(path.join(dir, 'dynamic-security.json'), 'utf8')
    const again = await run(['dynsec-init', '--out', dir])
    assert.is(again.code, 1)
    assert.match(again.err, 'LAMBKIN_CONFIG_INVALID')
    assert.is(readFileSync(path.join(dir, 'dynamic-security.json'), 'utf8'), before)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('dynsec-init after a power cut mid-write: the half-written temporary files a dead run left are removed, and none stays', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-dynsec-init-'))
  try {
    // Named by the process that wrote them (src/new-file.ts), one that has ended.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid as number
    writeFileSync(path.join(dir, `.dynamic-security.json.${gone}.tmp`), '{"clients":[')
    writeFileSync(path.join(dir, `.lambkin.conf.${gone}.tmp`), 'listen')
    assert.is((await run(['dynsec-init', '--out', dir])).code, 0)
    assert.equal(readdirSync(dir).sort(), ['dynamic-security.json', 'lambkin.conf'])
    assert.ok(Array.isArray((JSON.parse(readFileSync(path.join(dir, 'dynamic-security.json'), 'utf8')) as { clients: unknown }).clients))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('dynsec-init prints the URL with its password once, and the file holds only its hash', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-dynsec-init-'))
  try {
    const r = await run(['dynsec-init', '--out', dir, '--host', '0.0.0.0', '--port', '8883'])
    assert.is(r.code, 0)
    const url = /--broker-admin '([^']+)'/.exec(r.out)?.[1] ?? ''
    const password = decodeURIComponent(new URL(url.replace('<this host>', 'host')).password)
    assert.ok(password.length >= 40)
    assert.not.match(readFileSync(path.join(dir, 'dynamic-security.json'), 'utf8'), password)
    assert.match(readFileSync(path.join(dir, 'lambkin.conf'), 'utf8'), 'listener 8883 0.0.0.0')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('lambkin broker without a subcommand is bad usage (exit 2); dynsec-init --help names its files', async () => {
  assert.is((await run([])).code, 2)
  const help = await run(['dynsec-init', '--help'])
  assert.is(help.code, 0)
  assert.match(help.out, 'dynamic-security.json')
  assert.match(help.out, '--broker-admin')
})

test.run()

// `lambkin device install-service` end to end: the unit it writes passes `systemd-analyze
// verify`, and its ExecStart line, read as systemd reads it (with its Environment= and
// EnvironmentFile=), run as written with only the data folder moved to a temp dir, starts the
// agent in one Node process. systemd is not PID 1 here, so the unit itself is not started.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { planRuntime } from '../../cli/node-runtime.js'
import { DEFAULT_DATA_DIR } from '../../cli/systemd-unit.js'
import { runLambkin, writeFunctions } from './fixtures/lambkin-process.js'

const ANALYZE = '/usr/bin/systemd-analyze'

/** Splits a command line as systemd.service(5) does for the quoting the renderer uses. */
function words (line: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < line.length) {
    while (line[i] === ' ') i++
    if (i >= line.length) break
    let w = ''
    if (line[i] === '"') {
      i++
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\') i++
        w += line[i++]
      }
      i++
    } else {
      while (i < line.length && line[i] !== ' ') w += line[i++]
    }
    out.push(w.replace(/%%/g, '%').replace(/\$\$/g, '$'))
  }
  return out
}

/** The [Service] settings, each key with its values in order. */
function service (unit: string): Map<string, string[]> {
  const body = unit.slice(unit.indexOf('[Service]'), unit.indexOf('[Install]'))
  const map = new Map<string, string[]>()
  for (const line of body.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line)
    if (m !== null) map.set(m[1] as string, [...(map.get(m[1] as string) ?? []), m[2] as string])
  }
  return map
}

/** KEY='value' and KEY="value" lines of an EnvironmentFile (the forms renderEnvFile writes). */
function envFile (text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(?:'([^']*)'|"((?:[^"\\]|\\.)*)")$/.exec(line)
    if (m !== null) out[m[1] as string] = m[2] ?? (m[3] as string).replace(/\\(.)/g, '$1')
  }
  return out
}

function setup (): { root: string, etc: string, functions: string, args: string[] } {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-unit-'))
  const etc = path.join(root, 'etc')
  mkdirSync(etc)
  const functions = writeFunctions(path.join(root, 'functions'), { hello: { code: 'export default () => 1' } })
  return { root, etc, functions, args: ['device', 'install-service', '--unit-dir', etc, '--sysusers-dir', etc, '--secrets-file', path.join(etc, 'device.env')] }
}

test('the written unit passes systemd-analyze verify, and its ExecStart runs the agent as written, in one Node process with the board flags', async () => {
  const s = setup()
  try {
    // LAMBKIN_MEMORY=small: the board profile, as on an ARM board.
    const r = await runLambkin([...s.args, '--id', 'e2e-unit', '--functions', s.functions, '--broker-port', '0', '--mqtt-password', "p@ss w$rd'"], { env: { LAMBKIN_MEMORY: 'small' } })
    assert.is(r.code, 0, r.stderr)
    const unitFile = path.join(s.etc, 'lambkin-device.service')
    for (const f of [unitFile, path.join(s.etc, 'lambkin.conf'), path.join(s.etc, 'device.env')]) assert.match(r.stdout, `wrote ${f}`)
    assert.match(r.stdout, 'systemctl enable --now lambkin-device')
    assert.match(r.stdout, 'systemctl stop lambkin-device')
    assert.match(r.stdout, 'journalctl -u lambkin-device')
    const unit = readFileSync(unitFile, 'utf8')
    assert.not.match(unit, 'p@ss', 'a password in the unit')
    assert.is(statSync(path.join(s.etc, 'device.env')).mode & 0o777, 0o600)
    // The functions are in a temporary folder: a private /tmp (PrivateTmp=yes) would hide them from the agent.
    if (/^\/(tmp|var\/tmp)\//.test(s.functions)) assert.match(unit, /^PrivateTmp=no$/m)

    if (existsSync(ANALYZE)) {
      const v = spawnSync(ANALYZE, ['verify', unitFile], { encoding: 'utf8' })
      assert.is(v.status, 0, v.stderr)
      assert.is(v.stderr.trim(), '', `systemd-analyze verify complained: ${v.stderr}`)
    } else {
      console.log(`      SKIP systemd-analyze verify: ${ANALYZE} is missing (Debian package systemd)`)
    }

    const svc = service(unit)
    const argv = words((svc.get('ExecStart') ?? [])[0] ?? '')
    const board = planRuntime({ arch: process.arch, env: { LAMBKIN_MEMORY: 'small' }, execArgv: [] })
    assert.ok(board.flags.length > 0 && board.flags.every((f) => argv.includes(f)), `${board.flags.join(' ')} in ${argv.join(' ')}`)
    assert.equal(svc.get('StateDirectory'), ['lambkin'])
    const data = path.join(s.root, 'data')
    mkdirSync(data)
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' }
    for (const line of svc.get('Environment') ?? []) for (const a of words(line)) env[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1)
    Object.assign(env, envFile(readFileSync(((svc.get('EnvironmentFile') ?? [])[0] ?? '').replace(/^-/, ''), 'utf8')))
    assert.is(env.LAMBKIN_MQTT_PASSWORD, "p@ss w$rd'")
    assert.is(env.MALLOC_ARENA_MAX, '2')
    const moved = argv.map((a) => a === DEFAULT_DATA_DIR ? data : a)
    const child = spawn(moved[0] as string, moved.slice(1), { cwd: data, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (x: string) => { out += x })
    child.stderr.setEncoding('utf8').on('data', (x: string) => { out += x })
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    try {
      const end = Date.now() + 30_000
      while (!out.includes('e2e-unit ready') && child.exitCode === null && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50))
      assert.match(out, 'lambkin device e2e-unit ready: functions hello')
      const pid = child.pid as number
      assert.is(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim(), '', 'the agent runs in the process the unit starts: no re-run child')
      assert.ok(readdirSync(data).length > 0, 'the agent writes its data in the data folder')
    } finally {
      child.kill('SIGTERM')
      assert.is(await exited, 0, out)
    }
  } finally {
    rmSync(s.root, { recursive: true, force: true })
  }
})

test('--print shows the files, secrets masked, and writes nothing; a bad value (a port out of range, a line end) exits 1 naming the key, writing nothing', async () => {
  const s = setup()
  try {
    const p = await runLambkin([...s.args, '--print', '--cloud', 'mqtts://cloud.example:8883', '--broker-host', '0.0.0.0', '--broker-port', '1883', '--broker-allow-anonymous'], { env: { LAMBKIN_CLOUD_PASSWORD: 'top-secret' } })
    assert.is(p.code, 0, p.stderr)
    assert.match(p.stdout, /^ExecStart=.* device .*--cloud mqtts:\/\/cloud\.example:8883 --broker-port 1883 --broker-host 0\.0\.0\.0 --broker-allow-anonymous$/m)
    assert.match(p.stdout, "LAMBKIN_CLOUD_PASSWORD='***'")
    assert.not.match(p.stdout, 'top-secret')
    assert.equal(readdirSync(s.etc), [])
    const bad = await runLambkin([...s.args, '--broker-port', '70000'])
    assert.is(bad.code, 1)
    assert.match(bad.stderr, /^LAMBKIN_CONFIG_INVALID: config key "brokerPort" must be an integer between 0 and 65535.*from flag --broker-port/m)
    assert.equal(readdirSync(s.etc), [])
    // A line end in a flag's value would end the ExecStart line and start another directive.
    const split = await runLambkin([...s.args, '--mqtt-username', 'u\nExecStartPre=/bin/true'])
    assert.is(split.code, 1, split.stdout)
    assert.match(split.stderr, /^LAMBKIN_CONFIG_INVALID: config key "mqtt\.username" holds the control character "\\n".*from flag --mqtt-username/m)
    assert.equal(readdirSync(s.etc), [])
    // A file that cannot be written (here: a folder under a plain file) installs nothing.
    writeFileSync(path.join(s.root, 'plain'), '')
    const fail = await runLambkin([...s.args.slice(0, -1), path.join(s.root, 'plain', 'device.env'), '--mqtt-password', 'pw'])
    assert.is(fail.code, 1)
    assert.match(fail.stderr, /^LAMBKIN_INSTALL_FAILED: could not write .*plain.* nothing was installed/m)
    assert.equal(readdirSync(s.etc), [], 'the unit was left behind')
    // A port below 1024 may only be bound with the one capability the unit then grants.
    const low = await runLambkin([...s.args, '--print', '--broker-port', '883'])
    assert.match(low.stdout, /^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m)
  } finally {
    rmSync(s.root, { recursive: true, force: true })
  }
})

test('install-service --help names its own options and the agent\'s flags', async () => {
  const r = await runLambkin(['device', 'install-service', '--help'])
  assert.is(r.code, 0)
  for (const w of ['--print', '--unit-dir', '--secrets-file', '--broker-users-file', 'LAMBKIN_BROKER_HOST']) assert.match(r.stdout, w)
})

test.run()

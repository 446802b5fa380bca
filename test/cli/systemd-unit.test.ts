// The systemd unit's text: the shipped file is what the renderer makes for a board, words are
// quoted as systemd reads them, and the data folder and hardening follow the options.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { planRuntime } from '../../cli/node-runtime.js'
import { DEFAULT_DATA_DIR, renderEnvFile, renderSysusers, renderUnit, SERVICE_USER, shippedUnitSpec, unitWord } from '../../cli/systemd-unit.js'
import type { UnitSpec } from '../../cli/systemd-unit.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const board = planRuntime({ arch: 'arm64', env: {}, execArgv: [] })
const REGENERATE = 'regenerate deploy/systemd/ from cli/systemd-unit.ts (renderUnit(shippedUnitSpec(...)), renderSysusers)'

test('the unit and sysusers entry shipped in deploy/systemd are the renderer\'s, with the board\'s Node flags', () => {
  const unit = readFileSync(path.join(ROOT, 'deploy', 'systemd', 'lambkin-device.service'), 'utf8')
  assert.fixture(unit, renderUnit(shippedUnitSpec(board.flags, board.env)), REGENERATE)
  assert.fixture(readFileSync(path.join(ROOT, 'deploy', 'systemd', 'lambkin.sysusers'), 'utf8'), renderSysusers(SERVICE_USER, DEFAULT_DATA_DIR), REGENERATE)
  assert.match(unit, /^ExecStart=\/usr\/bin\/node --disable-wasm-trap-handler --max-semi-space-size=1 --v8-pool-size=1 --heap-growing-percent=10 --incremental-marking-soft-trigger=45 --no-sparkplug \S+\/bin\.js device /m)
  assert.match(unit, /^Environment=LAMBKIN_MEMORY=small MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=32768$/m)
  for (const line of ['Restart=always', 'User=lambkin', 'StateDirectory=lambkin', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'ProtectHome=yes']) assert.match(unit, new RegExp(`^${line}$`, 'm'), line)
})

test('the package ships deploy/systemd', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] }
  assert.ok(pkg.files.includes('deploy/systemd'), JSON.stringify(pkg.files))
})

test('unitWord: $ and % doubled (systemd would expand them), spaces and quotes in a quoted word', () => {
  assert.is(unitWord('/usr/bin/node'), '/usr/bin/node')
  assert.is(unitWord('--id'), '--id')
  assert.is(unitWord('$HOME'), '$$HOME')
  assert.is(unitWord('50%'), '50%%')
  assert.is(unitWord('/srv/my functions'), '"/srv/my functions"')
  assert.is(unitWord('[{"username":"a"}]'), '"[{\\"username\\":\\"a\\"}]"')
  assert.is(unitWord('a\\b'), '"a\\\\b"')
})

test('unitWord: a control character is a C escape in the quoted word, never a line end in the unit', () => {
  // systemd.syntax(7): quoted words take \n, \xNN; a raw line end would end the directive.
  assert.is(unitWord('/srv/a\nExecStartPre=/bin/true'), '"/srv/a\\x0aExecStartPre=/bin/true"')
  assert.is(unitWord('a\r'), '"a\\x0d"')
  assert.not.match(renderUnit(spec({ args: ['--config', '/etc/a\nb.json'] })), /\nb\.json/)
})

const spec = (over: Partial<UnitSpec>): UnitSpec => ({ ...shippedUnitSpec(board.flags, board.env), ...over })

test('a data folder outside /var/lib is made writable instead of a StateDirectory; paths under /home keep ProtectHome read-only', () => {
  const unit = renderUnit(spec({ dataDir: '/srv/lambkin', readsHome: true }))
  assert.match(unit, /^ReadWritePaths=\/srv\/lambkin$/m)
  assert.not.match(unit, /StateDirectory=/)
  assert.match(unit, /^ProtectHome=read-only$/m)
  assert.match(renderUnit(spec({ dataDir: '/var/lib/lambkin/gh-01' })), /^StateDirectory=lambkin\/gh-01$/m)
})

test('a path the agent reads or writes under /tmp or /var/tmp turns PrivateTmp off: systemd would mount an empty /tmp over it, and the agent would find no functions, keys or data', () => {
  assert.match(renderUnit(spec({})), /^PrivateTmp=yes$/m)
  const unit = renderUnit(spec({ dataDir: '/tmp/try/data', readsTmp: true }))
  assert.not.match(unit, /^PrivateTmp=yes$/m)
  assert.match(unit, /^PrivateTmp=no$/m)
})

test('a port below 1024 gets CAP_NET_BIND_SERVICE and nothing else; otherwise no capabilities at all', () => {
  assert.match(renderUnit(spec({ lowPort: true })), /^AmbientCapabilities=CAP_NET_BIND_SERVICE\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m)
  assert.match(renderUnit(spec({})), /^CapabilityBoundingSet=$/m)
})

test('the env file single-quotes values (verbatim for systemd and a shell), double-quotes those holding a quote', () => {
  assert.is(renderEnvFile({ A: 'p$ss w"rd' }).split('\n')[1], "A='p$ss w\"rd'")
  assert.is(renderEnvFile({ A: "it's $x" }).split('\n')[1], 'A="it\'s \\$x"')
})

test.run()

// Function log lines on the board: `lambkin device` prints what its functions write with
// ctx.log / console.*, one escaped line each with the function's name and level, quieted by
// `--function-logs` or LAMBKIN_FUNCTION_LOGS; and `lambkin outbox` reads a running agent's
// outbox through its local HTTP port instead of refusing, or says how when it cannot.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { runLambkin, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

const ESC = '\u001b'

function world (): { root: string, functions: string, data: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-fnlog-'))
  const functions = writeFunctions(path.join(root, 'fns'), {
    chatty: {
      manifest: { triggers: [{ schedule: '* * * * * *' }] },
      code: `export default (event, ctx) => {
        ctx.log('tick at', 21.5, '\\nlambkin device x ready: FORGED\\u001b[31m')
        console.warn('fan stuck')
        console.debug('raw 0x1f')
        return 1
      }`
    }
  })
  return { root, functions, data: path.join(root, 'data') }
}

test('ctx.log lines show on the agent console: name, level, one escaped line each, at their priority', async () => {
  const w = world()
  let p: LambkinProcess | undefined
  try {
    p = startLambkin(['device', '--id', 'fnlog', '--functions', w.functions, '--data', w.data], { env: { JOURNAL_STREAM: '' } })
    await p.waitFor('stderr', /\[chatty\] ok /)
    const info = await p.waitFor('stderr', /^\[chatty\] info: tick at 21\.5 .*$/m)
    assert.ok(info[0].includes('\\x0alambkin device x ready: FORGED\\x1b[31m'), info[0])
    assert.match(p.stderr(), /^\[chatty\] warn: fan stuck$/m)
    assert.match(p.stderr(), /^\[chatty\] debug: raw 0x1f$/m)
    assert.not.ok(p.stderr().includes(ESC), 'no raw ESC on the console')
    assert.not.match(p.stderr(), /^lambkin device x ready/m)
    // Logged before the invocation's own line.
    const out = p.stderr()
    assert.ok(out.indexOf('[chatty] info: tick') < out.indexOf('[chatty] ok '))
  } finally {
    await p?.stop('SIGINT')
    rmSync(w.root, { recursive: true, force: true })
  }
})

test('--function-logs warn keeps warnings; LAMBKIN_FUNCTION_LOGS=off hides them all', async () => {
  const w = world()
  try {
    const warn = startLambkin(['device', '--id', 'fnlog', '--functions', w.functions, '--data', w.data, '--function-logs', 'warn'])
    try {
      await warn.waitFor('stderr', /\[chatty\] warn: fan stuck/)
      await warn.waitFor('stderr', /(\[chatty\] ok [^\n]*\n[^]*){2}/)
      assert.not.match(warn.stderr(), /\[chatty\] (info|debug):/)
    } finally {
      assert.is((await warn.stop('SIGINT')).code, 0)
    }
    const off = startLambkin(['device', '--id', 'fnlog', '--functions', w.functions, '--data', w.data], { env: { LAMBKIN_FUNCTION_LOGS: 'off' } })
    try {
      await off.waitFor('stderr', /(\[chatty\] ok [^\n]*\n[^]*){2}/)
      assert.not.match(off.stderr(), /\[chatty\] (info|warn|debug):/)
    } finally {
      assert.is((await off.stop('SIGINT')).code, 0)
    }
    const bad = await runLambkin(['device', '--id', 'fnlog', '--functions', w.functions, '--data', w.data, '--function-logs', 'loud'])
    assert.is(bad.code, 1)
    assert.match(bad.stderr, /LAMBKIN_CONFIG_INVALID: .*functionLogs.*debug, info, warn, error or off/)
  } finally {
    rmSync(w.root, { recursive: true, force: true })
  }
})

test('lambkin outbox reads a running agent\'s outbox through its local HTTP port', async () => {
  const w = world()
  let p: LambkinProcess | undefined
  try {
    p = startLambkin(['device', '--id', 'fnlog', '--functions', w.functions, '--data', w.data, '--metrics-port', '0'])
    await p.waitFor('stdout', /ready/)
    await p.waitFor('stderr', /(\[chatty\] ok [^\n]*\n[^]*){2}/)
    // The token file is the data folder's, owner-only.
    assert.is(statSync(path.join(w.data, 'agent-http.json')).mode & 0o077, 0)
    const json = await runLambkin(['outbox', '--data', w.data, '--json', '--kind', 'log'])
    assert.is(json.code, 0, json.stderr)
    type LogRecord = { kind: string, fn: string, data: { lines: Array<{ level: string, msg: string }> } }
    const dump = JSON.parse(json.stdout) as { records: LogRecord[], stats: { count: number } }
    assert.ok(dump.records.length >= 1)
    assert.ok(dump.records.every((r) => r.kind === 'log' && r.fn === 'chatty'))
    assert.equal(dump.records[0].data.lines.map((l) => l.level), ['info', 'warn', 'debug'])
    assert.ok(dump.stats.count >= 2)
    const table = await runLambkin(['outbox', '--data', w.data])
    assert.is(table.code, 0, table.stderr)
    assert.match(table.stdout, /\bresult\s+chatty\b/)
    assert.match(table.stdout, /read through the running agent/)
    // Without the token the route answers nothing.
    const url = (JSON.parse(readFileSync(path.join(w.data, 'agent-http.json'), 'utf8')) as { url: string }).url
    assert.is((await fetch(`${url}/outbox`)).status, 401)
  } finally {
    assert.is((await p?.stop('SIGINT'))?.code, 0)
    rmSync(w.root, { recursive: true, force: true })
  }
  // A clean stop removes the endpoint file; the store then opens directly.
})

test('an agent with no local HTTP port: the refusal says exactly how to read its outbox', async () => {
  const w = world()
  let p: LambkinProcess | undefined
  try {
    p = startLambkin(['device', '--id', 'fnlog', '--functions', w.functions, '--data', w.data])
    await p.waitFor('stdout', /ready/)
    const r = await runLambkin(['outbox', '--data', w.data])
    assert.is(r.code, 1)
    assert.match(r.stderr, /^LAMBKIN_STORE_ERROR: the outbox store in .* is locked by a running agent/m)
    assert.match(r.stderr, /restart that agent with --metrics-port <n> \(metricsPort in its config, or LAMBKIN_METRICS_PORT/)
    assert.match(r.stderr, `then run lambkin outbox --data ${w.data} again`)
  } finally {
    assert.is((await p?.stop('SIGINT'))?.code, 0)
  }
  try {
    const after = await runLambkin(['outbox', '--data', w.data])
    assert.is(after.code, 0, after.stderr)
    assert.not.match(after.stdout, /read through the running agent/)
  } finally {
    rmSync(w.root, { recursive: true, force: true })
  }
})

test.run()

// `lambkin outbox` shows what a person looks for in each record the agent writes: a result's
// value, a dead letter's code and message, a log's first line, an emit's record; one line each,
// cut to the column's width. Real invocations through a real pool into a real LevelDB store.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { outboxCommand } from '../../cli/commands/outbox.js'
import { PREVIEW_CHARS, preview } from '../../cli/outbox-preview.js'
import { invokerWorld } from '../helpers/invoker-world.js'

const CODE = `export default (e, ctx) => {
  ctx.log('alarm raised\\nfor ' + e.room)
  ctx.log('second line')
  ctx.emit({ room: e.room, value: e.value })
  if (e.value < 0) throw new Error('negative reading ' + e.value)
  return { room: e.room, hot: e.value > 70 }
}`

/** The table `lambkin outbox --data dir` prints after two invocations, one good, one failing. */
async function table (): Promise<Map<string, string>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-preview-'))
  try {
    const { invoker, close } = await invokerWorld({ functions: { alarm: CODE }, store: { dir } })
    try {
      await invoker.run('alarm', { source: 'invoke', room: 'gh1', value: 80 })
      await invoker.run('alarm', { source: 'invoke', room: 'gh2', value: -1 })
    } finally {
      await close()
    }
    let out = ''
    assert.is(await outboxCommand(['--data', dir], { stdout: (s) => { out += s }, stderr: () => {} }), 0)
    const lines = out.trimEnd().split('\n')
    const dataAt = (lines[0] as string).indexOf('DATA')
    // kind -> DATA cell of its first row
    const cells = new Map<string, string>()
    for (const l of lines.slice(1, -1)) {
      const kind = l.split(/\s+/)[1] as string
      if (!cells.has(kind)) cells.set(kind, l.slice(dataAt))
    }
    return cells
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('each kind shows its point: result value, dead letter error, first log line, emitted record', async () => {
  const cells = await table()
  assert.is(cells.get('result'), '{"room":"gh1","hot":true}')
  assert.is(cells.get('emit'), '{"room":"gh1","value":80}')
  assert.is(cells.get('log'), '[info] alarm raised for gh1 (+1 lines)')
  assert.is(cells.get('dead-letter'), 'LAMBKIN_FUNCTION_ERROR: Error: negative reading -1')
})

test('previews stay on one line and within the column, keeping what is counted', () => {
  const long = preview('dead-letter', { invocationId: 'x', error: { code: 'LAMBKIN_FUNCTION_ERROR', message: 'a\nb'.repeat(100) } })
  assert.is([...long].length, PREVIEW_CHARS)
  assert.ok(long.startsWith('LAMBKIN_FUNCTION_ERROR: a ba ba b') && long.endsWith('…'), long)
  const log = preview('log', { invocationId: 'x', lines: [{ level: 'warn', time: 0, msg: '€'.repeat(200) }, { level: 'info', time: 0, msg: 'b' }] })
  assert.is([...log].length, PREVIEW_CHARS)
  assert.ok(log.startsWith('[warn] €€') && log.endsWith('… (+1 lines)'), log)
  assert.is(preview('metric', { functions: { a: { invocations: 12, errors: { LAMBKIN_TIMEOUT: 2 } }, b: { invocations: 3, errors: {} } } }), 'a 12 calls 2 errors, b 3 calls')
  assert.is(preview('result', { invocationId: 'x', result: null }), 'null')
  assert.is(preview('emit', new Uint8Array(3)), '<3 bytes>')
  assert.is(preview('result', { some: 'other shape' }), '{"some":"other shape"}', 'records of other shapes show as JSON')
})

test.run()

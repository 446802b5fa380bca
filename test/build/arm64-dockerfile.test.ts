// Dockerfile.arm64 starts Node the way cli/node-runtime.ts plans it for arm64, so the image runs
// the agent in one process (docs/performance.md, "One Node process"), and needs no config file; checked on the text,
// without building the image (test/e2e/arm64-image.test.ts runs the built one).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { planRuntime } from '../../cli/node-runtime.js'
import { ENV_VARS, OTHER_ENV_VARS } from '../../device/config/index.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const TEXT = readFileSync(path.join(ROOT, 'Dockerfile.arm64'), 'utf8').replace(/\\\n\s*/g, ' ')

const entrypoint = JSON.parse((/^ENTRYPOINT (\[.*\])$/m.exec(TEXT) ?? ['', '[]'])[1] as string) as string[]
const env = new Map([...TEXT.matchAll(/^ENV (.*)$/gm)].flatMap((m) => [...(m[1] as string).matchAll(/([A-Z_]+)=(\S+)/g)].map((a) => [a[1] as string, a[2] as string])))

test('the entrypoint gives Node the flags bin.js would add on arm64, and the environment the profile\'s variables', () => {
  const board = planRuntime({ arch: 'arm64', env: {}, execArgv: [] })
  const bin = entrypoint.findIndex((a) => a.endsWith('/dist/cli/bin.js'))
  assert.ok(bin > 0, `no bin.js in ${JSON.stringify(entrypoint)}`)
  assert.equal(entrypoint.slice(1, bin), board.flags)
  assert.is(entrypoint[bin + 1], 'device')
  for (const [k, v] of Object.entries(board.env)) assert.is(env.get(k), v, k)
  assert.equal(planRuntime({ arch: 'arm64', env: Object.fromEntries(env), execArgv: entrypoint.slice(1, bin) }), { flags: [], env: {} }, 'bin.js would re-run Node')
})

test('every LAMBKIN_* variable the image sets is one the agent knows; the broker listens beyond loopback with a users file; no device id is fixed', () => {
  const known = new Set([...ENV_VARS, ...OTHER_ENV_VARS].map((e) => e.name))
  for (const k of env.keys()) if (k.startsWith('LAMBKIN_')) assert.ok(known.has(k), `${k} is not a variable the agent reads`)
  assert.is(env.get('LAMBKIN_BROKER_HOST'), '0.0.0.0')
  assert.ok(env.has('LAMBKIN_BROKER_USERS_FILE'))
  assert.not.ok(env.has('LAMBKIN_ID'))
  assert.match(TEXT, /^USER lambkin$/m)
})

test.run()

// Libraries stay in their rooms (docs/architecture.md, "Parts"): each chosen package may be
// imported only by the files that own it, so swapping one touches one place. test/ and bench/
// may use any of them (they drive real brokers and stores), except that uvu is test/'s alone.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

/** Package -> path prefixes (folders end in '/') where it may be imported. */
const ROOMS: Record<string, string[]> = {
  // The MQTT.js client: the agent's trigger link and cloud link, the cloud's client of an
  // external broker (docs/scale-out.md) and its admin client of that broker's dynamic security
  // (docs/brokers.md); the demo's simulated sensors are MQTT clients of the agent, as a user's
  // sensors would be.
  mqtt: ['device/links/', 'device/sync/', 'cloud-sync/broker/external/', 'cloud-sync/broker/dynsec.ts', 'cli/commands/demo-feed.ts'],
  // aedes: the embedded and cloud brokers, and the resend rules both apply to it (MQTT 3.1.1 3.3.1.1, 4.6).
  aedes: ['device/links/broker/', 'cloud-sync/broker/', 'src/mqtt/session-resend.ts'],
  level: ['device/store/', 'cloud-sync/registry/'],
  'abstract-level': ['device/store/', 'cloud-sync/registry/'],
  'classic-level': ['device/store/', 'cloud-sync/registry/'],
  'quickjs-emscripten': ['src/sandbox/'],
  'quickjs-emscripten-core': ['src/sandbox/'],
  fastify: ['cloud-sync/api/'],
  // node-postgres: the PostgreSQL registry only (loaded only when the cloud runs with --db).
  // PostgreSQL: the registry backend, and the coordinator between cloud instances (advisory lock, LISTEN/NOTIFY).
  pg: ['cloud-sync/registry/pg/', 'cloud-sync/coord/pg-coordinator.ts'],
  'pg-pool': ['cloud-sync/registry/pg/'],
  'pg-protocol': ['cloud-sync/registry/pg/'],
  commander: ['cli/'],
  'node-cron': ['src/cron-lib.ts'],
  'cbor-x': ['src/wire/', 'src/bundle/', 'device/store/', 'cloud-sync/registry/'],
  // Only to find where a module does not parse, at validate time.
  acorn: ['src/function/syntax-check.ts'],
  // The dashboard's page (bundled by scripts/build-web.mjs, which alone uses esbuild); the
  // browser driver is for test/ and bench/.
  preact: ['cloud-sync/web/'],
  '@preact/signals': ['cloud-sync/web/'],
  uplot: ['cloud-sync/web/'],
  esbuild: [],
  'playwright-core': [],
  uvu: []
}

function sources (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(path.join(ROOT, dir))) {
    const rel = `${dir}/${name}`
    if (name === 'node_modules') continue
    if (statSync(path.join(ROOT, rel)).isDirectory()) out.push(...sources(rel))
    else if ((name.endsWith('.ts') || name.endsWith('.tsx')) && !name.endsWith('.d.ts')) out.push(rel)
  }
  return out
}

function importsOf (file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8')
  const out: string[] = []
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)'([^'.][^']*)'/g)) out.push(m[1])
  return out
}

const packageOf = (spec: string): string => spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]

test('each chosen package is imported only in its room', () => {
  const misplaced: string[] = []
  for (const file of ['src', 'device', 'cloud-sync', 'cli'].flatMap(sources)) {
    for (const spec of importsOf(file)) {
      const room = ROOMS[packageOf(spec)]
      if (room !== undefined && !room.some((p) => file === p || (p.endsWith('/') && file.startsWith(p)))) misplaced.push(`${file} imports ${spec}`)
    }
  }
  assert.equal(misplaced, [])
})

test('the rule sees imports: a file outside a room is caught', () => {
  assert.equal(importsOf('test/build/library-rooms.test.ts').filter((s) => s === 'uvu'), ['uvu'])
  assert.ok(!ROOMS.aedes.some((p) => 'device/agent.ts'.startsWith(p)))
})

test('uvu only under test/', () => {
  const outside = ['src', 'device', 'cloud-sync', 'cli', 'bench'].flatMap(sources).filter((f) => importsOf(f).some((s) => packageOf(s) === 'uvu'))
  assert.equal(outside, [])
})

test.run()

// The layers' import arrows are enforced by the build, not by review: the project's own
// tsconfig files, copied beside fixture sources, make `tsc -b` fail on an import against the
// arrows (src <- device, src <- cloud-sync, everything <- cli) and pass on one along them.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const LAYERS = ['src', 'device', 'cloud-sync', 'cli']

/** Builds `project` in a copy of the layout whose files are `files` (path -> source). */
function build (project: string, files: Record<string, string>): { ok: boolean, out: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-layers-'))
  try {
    // The fixtures use no Node types, and the copy has no node_modules to find them in.
    const base = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: Record<string, unknown> }
    base.compilerOptions.types = []
    writeFileSync(path.join(dir, 'tsconfig.base.json'), JSON.stringify(base))
    writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}')
    for (const layer of LAYERS) {
      mkdirSync(path.join(dir, layer), { recursive: true })
      writeFileSync(path.join(dir, layer, 'tsconfig.json'), readFileSync(path.join(ROOT, layer, 'tsconfig.json')))
      writeFileSync(path.join(dir, layer, 'index.ts'), `export const ${layer.replace('-', '')} = 1\n`)
    }
    for (const [file, source] of Object.entries(files)) writeFileSync(path.join(dir, file), source)
    const r = spawnSync(process.execPath, [TSC, '-b', path.join(dir, project, 'tsconfig.json')], { encoding: 'utf8' })
    return { ok: r.status === 0, out: r.stdout + r.stderr }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const forbidden: Array<[string, string, string]> = [
  ['src', 'src/probe.ts', "import { device } from '../device/index.js'\nexport const x = device\n"],
  ['src', 'src/probe.ts', "import { cli } from '../cli/index.js'\nexport const x = cli\n"],
  ['device', 'device/probe.ts', "import { cloudsync } from '../cloud-sync/index.js'\nexport const x = cloudsync\n"],
  ['cloud-sync', 'cloud-sync/probe.ts', "import { device } from '../device/index.js'\nexport const x = device\n"],
  ['device', 'device/probe.ts', "import { cli } from '../cli/index.js'\nexport const x = cli\n"]
]

for (const [project, file, source] of forbidden) {
  test(`a forbidden import fails the build: ${file} -> ${/'(.*)'/.exec(source)?.[1] ?? ''}`, () => {
    const r = build(project, { [file]: source })
    assert.not.ok(r.ok, 'the build passed')
    assert.match(r.out, /TS6307|TS6059/)
  })
}

test('imports along the arrows build', () => {
  const r = build('cli', {
    'device/probe.ts': "import { src } from '../src/index.js'\nexport const x = src\n",
    'cloud-sync/probe.ts': "import { src } from '../src/index.js'\nexport const x = src\n",
    'cli/probe.ts': "import { src } from '../src/index.js'\nimport { device } from '../device/index.js'\nimport { cloudsync } from '../cloud-sync/index.js'\nexport const x = src + device + cloudsync\n"
  })
  assert.ok(r.ok, r.out)
})

test.run()

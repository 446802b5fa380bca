// What `npm pack` / `npm publish` ship: bin.js runs dist/bundle/ unless tsc's build info says
// the sources are newer, and a package leaves that build info out (package.json "files"). So a
// package must be built whole just before it is packed, or it could ship a bundle older than
// the modules beside it (docs/performance.md, "What the agent loads").
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>, files: string[] }

test('a package is built whole (bundle included) before it is packed', () => {
  assert.is(pkg.scripts.prepack, 'npm run build')
  assert.match(pkg.scripts.build, /scripts\/build\.mjs(?! cli)/)
})

test('the package ships the bundle and the modules bin.js falls back to', () => {
  for (const dir of ['dist/bundle', 'dist/cli', 'dist/src', 'dist/device', 'dist/cloud-sync']) assert.ok(pkg.files.includes(dir), `${dir} in files`)
})

test.run()

// docs/functions.md, "A function's folder is closed", as a user meets it: `lambkin invoke` on a folder
// whose links lead out of it, and a handler that tries to import what is not its own.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { runLambkin, writeFunctions } from './fixtures/lambkin-process.js'

const SECRET = 'e2e-secret-9f3c1d'
/** Returns what each import gave: the module's default export, or the error's message. */
const PROBE = `export default async () => {
  const out = {}
  for (const f of ['./e.js', './b.js', '../b/index.js', './lib/../../b/index.js']) {
    try { out[f] = String((await import(f)).default) } catch (e) { out[f] = 'ERR ' + e.message }
  }
  return out
}`

test('a link to /proc/self/environ is refused before any code runs; the environment is not in the output', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-folder-'))
  try {
    writeFunctions(root, { leak: { code: PROBE } })
    symlinkSync('/proc/self/environ', path.join(root, 'leak', 'e.js'))
    const r = await runLambkin(['invoke', path.join(root, 'leak')], { env: { E2E_MQTT_PASSWORD: SECRET } })
    assert.is(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stderr, /^LAMBKIN_MANIFEST_INVALID: .*e\.js leads outside/m)
    assert.not.match(r.stdout + r.stderr, SECRET)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('a link to a sibling function\'s index.js is refused; its source never reaches the function', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-folder-'))
  try {
    writeFunctions(root, { leak: { code: PROBE }, b: { code: 'export default "source of b"' } })
    symlinkSync('../b/index.js', path.join(root, 'leak', 'b.js'))
    const r = await runLambkin(['invoke', path.join(root, 'leak')])
    assert.is(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stderr, /^LAMBKIN_MANIFEST_INVALID: .*b\.js leads outside/m)
    assert.not.match(r.stdout + r.stderr, 'source of b')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('an import climbing above the function folder is refused inside the sandbox', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-folder-'))
  try {
    writeFunctions(root, { leak: { code: PROBE }, b: { code: 'export default "source of b"' } })
    const r = await runLambkin(['invoke', path.join(root, 'leak')])
    assert.is(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as Record<string, string>
    assert.is(out['../b/index.js'], 'ERR module "../b/index.js" is outside the function folder')
    assert.match(out['./lib/../../b/index.js'], 'is outside the function folder')
    assert.is(out['./b.js'], 'ERR module "b.js" not found in the function folder')
    assert.not.match(r.stdout, 'source of b')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('module names that are Object.prototype keys are not found, not resolved to its members', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-folder-'))
  try {
    writeFunctions(root, {
      proto: {
        code: `export default async () => {
          const out = {}
          for (const f of ['constructor', './constructor', './__proto__', './toString']) {
            try { out[f] = String((await import(f)).default) } catch (e) { out[f] = 'ERR ' + e.message }
          }
          return out
        }`
      }
    })
    const r = await runLambkin(['invoke', path.join(root, 'proto')])
    assert.is(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout), {
      constructor: 'ERR layer "constructor" is not in function.json "layers"',
      './constructor': 'ERR module "constructor" not found in the function folder',
      './__proto__': 'ERR module "__proto__" not found in the function folder',
      './toString': 'ERR module "toString" not found in the function folder'
    })
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()

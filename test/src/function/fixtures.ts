// Shared helpers for the function tests: expecting a LambkinError that names a key, and temp
// folder trees written from a { path: text } map.
import * as assert from 'uvu/assert'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { LambkinError } from '../../../src/errors.js'

/** Runs `fn`, expects a LambkinError with `code` naming `key` in its message and details. */
export function refusedBy (fn: () => unknown, key: string, code = 'LAMBKIN_MANIFEST_INVALID'): LambkinError {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  return checkRefusal(caught, key, code)
}

export async function rejectedWith (p: Promise<unknown>, key: string | undefined, code: string): Promise<LambkinError> {
  let caught: unknown
  try {
    await p
  } catch (err) {
    caught = err
  }
  return checkRefusal(caught, key, code)
}

function checkRefusal (caught: unknown, key: string | undefined, code: string): LambkinError {
  if (caught === undefined) assert.unreachable(`expected ${code}${key === undefined ? '' : ` naming ${key}`}, but it succeeded`)
  assert.instance(caught, LambkinError, String(caught))
  const e = caught as LambkinError
  assert.is(e.code, code, e.message)
  if (key !== undefined) {
    assert.is(e.details.key, key, e.message)
    assert.ok(e.message.includes(`"${key}"`), `message should name "${key}": ${e.message}`)
    assert.type(e.details.reason, 'string')
  }
  return e
}

export interface Tree { root: string, at: (rel: string) => string, write: (rel: string, text: string | Buffer) => void, remove: () => void }

export function tree (files: Record<string, string | Buffer> = {}): Tree {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-'))
  const at = (rel: string): string => path.join(root, rel)
  const write = (rel: string, text: string | Buffer): void => {
    mkdirSync(path.dirname(at(rel)), { recursive: true })
    writeFileSync(at(rel), text)
  }
  for (const [rel, text] of Object.entries(files)) write(rel, text)
  return { root, at, write, remove: () => rmSync(root, { recursive: true, force: true }) }
}

/** A minimal valid function folder's files under `prefix/`. */
export function fn (prefix: string, manifest: Record<string, unknown>, code = 'export default () => 1'): Record<string, string> {
  return { [`${prefix}/function.json`]: JSON.stringify(manifest), [`${prefix}/index.js`]: code }
}

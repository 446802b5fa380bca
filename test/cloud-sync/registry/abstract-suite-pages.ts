// The registry contract's cases for the devices list in pages (docs/cloud.md, "Pages"): id
// order by code unit on every backend (`-` before digits before `_` before letters), `after`
// a position that need not exist, `limit`, and the reports of a page in one read. Run by registrySuite.
import * as assert from 'uvu/assert'
import type { Registry } from '../../../cloud-sync/registry/index.js'
import type { Case } from './abstract-suite-deploy.js'

/** Ids whose byte order differs from most collations' (which skip `-` and `_`), and JS's own names. */
export const AWKWARD_IDS = ['ab', 'a_a', 'a-b', 'a0', 'constructor', 'tostring', 'valueof', '0', '9-', 'z', 'proto_', 'has-own-property']

export function pageCases (it: Case): void {
  const ids = (rows: Array<{ id: string }>): string[] => rows.map((d) => d.id)

  it('devices list in code-unit order, in pages after an id that need not exist', async (reg: Registry) => {
    for (const id of AWKWARD_IDS) await reg.addDevice({ id, secretHash: 'h', createdAt: 1 })
    const sorted = [...AWKWARD_IDS].sort()
    assert.equal(sorted.slice(0, 4), ['0', '9-', 'a-b', 'a0'])
    assert.equal(ids(await reg.listDevices()), sorted)
    assert.equal(ids(await reg.listDevices({ limit: 3 })), sorted.slice(0, 3))
    assert.equal(ids(await reg.listDevices({ after: 'a-b', limit: 3 })), ['a0', 'a_a', 'ab'])
    // A position between ids (no such device) and past the last.
    assert.equal(ids(await reg.listDevices({ after: 'a1' })), ['a_a', 'ab', 'constructor', 'has-own-property', 'proto_', 'tostring', 'valueof', 'z'])
    assert.equal(ids(await reg.listDevices({ after: 'z' })), [])
    assert.equal(ids(await reg.listDevices({ after: 'constructor', limit: 1 })), ['has-own-property'])
    // Walking pages of 5 covers every device once.
    const seen: string[] = []
    let after: string | undefined
    for (;;) {
      const page = await reg.listDevices({ after, limit: 5 })
      seen.push(...ids(page))
      if (page.length < 5) break
      after = page[page.length - 1].id
    }
    assert.equal(seen, sorted)
  })

  it('the reports of a page come in one read; devices without one are absent', async (reg: Registry) => {
    for (const id of ['constructor', 'gh-01', 'gh-02']) await reg.addDevice({ id, secretHash: 'h', createdAt: 1 })
    await reg.putReported('constructor', { deploymentId: 4, applying: false, functions: [{ name: 'f', version: 'v1' }], failures: [], rollbacks: [], time: 9, receivedAt: 10 })
    await reg.putReported('gh-02', { deploymentId: 5, applying: false, functions: [], failures: [], rollbacks: [], time: 9, receivedAt: 11 })
    const got = await reg.getReportedMany(['constructor', 'gh-01', 'gh-02', 'nope'])
    assert.equal([...got.keys()].sort(), ['constructor', 'gh-02'])
    assert.is(got.get('constructor')?.deploymentId, 4)
    assert.is(got.get('gh-02')?.receivedAt, 11)
    assert.is((await reg.getReportedMany([])).size, 0)
  })
}

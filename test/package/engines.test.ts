// `npm ci` on the oldest Node the README promises (package.json "engines": node >= 20.19) prints
// no EBADENGINE warning: every package the lock installs admits that Node. A range in a form
// this small reader does not know fails the test, so a person looks at it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

type V = [number, number, number]

function version (s: string): V | undefined {
  const m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(s.trim())
  if (m === null) return undefined
  const n = (x: string | undefined): number => x === undefined || x === 'x' || x === '*' ? 0 : Number(x)
  return [Number(m[1]), n(m[2]), n(m[3])]
}

const cmp = (a: V, b: V): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]

/** Whether `v` satisfies an npm engines range made of `||`-joined sets of >=, >, <=, <, ^, = comparators. */
function satisfies (v: V, range: string): boolean {
  return range.split('||').some((set) => {
    const parts = set.trim().replace(/(>=|<=|>|<|\^|=)\s+/g, '$1').split(/\s+/).filter((p) => p !== '')
    // `*`, `x` or an empty set: any version (npm's semver reads them so).
    if (parts.length === 0 || parts.every((p) => p === '*' || p === 'x')) return true
    return parts.every((p) => {
      const m = /^(>=|<=|>|<|\^|=)?(.*)$/.exec(p)
      const w = m === null ? undefined : version(m[2])
      if (m === null || w === undefined) throw new Error(`engines range "${range}" is in a form this test cannot read`)
      switch (m[1]) {
        case '>=': return cmp(v, w) >= 0
        case '>': return cmp(v, w) > 0
        case '<=': return cmp(v, w) <= 0
        case '<': return cmp(v, w) < 0
        case '^': return cmp(v, w) >= 0 && v[0] === w[0]
        default: {
          // A bare major or major.minor ("20", "20.19") is that whole line, as npm's semver reads it.
          const given = m[2].trim().replace(/^v/, '').split('.').filter((x) => /^\d+$/.test(x)).length
          return given >= 3 ? cmp(v, w) === 0 : v.slice(0, given).every((x, i) => x === w[i])
        }
      }
    })
  })
}

test('the range reader reads what locks hold', () => {
  assert.ok(satisfies([20, 0, 0], '>=20'))
  assert.not.ok(satisfies([20, 0, 0], '>=22'))
  assert.ok(satisfies([20, 0, 0], '^12.22.0 || ^14.17.0 || >=16.0.0'))
  assert.ok(satisfies([20, 0, 0], '>= 10.x'))
  assert.not.ok(satisfies([20, 0, 0], '^20.19.0 || >=22.12.0'))
  assert.ok(satisfies([20, 19, 0], '18 || 20 || >=22'))
  assert.not.ok(satisfies([21, 0, 0], '20 || >=22'))
})

test('npm ci on Node 20 warns about no engine: every locked package admits the oldest Node package.json allows', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
  const oldest = version(/^>=\s*(\S+)$/.exec(pkg.engines.node)?.[1] ?? '')
  assert.ok(oldest !== undefined, `package.json engines.node is ">=<version>" (${pkg.engines.node})`)
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[], optional?: boolean }> }
  const refusing: string[] = []
  for (const [where, p] of Object.entries(lock.packages)) {
    const range = Array.isArray(p.engines) ? undefined : p.engines?.node
    if (where === '' || range === undefined) continue
    if (!satisfies(oldest, range)) refusing.push(`${where.replace(/^.*node_modules\//, '')} (node ${range})`)
  }
  assert.equal(refusing, [], `these packages would make npm ci warn EBADENGINE on Node ${oldest.join('.')}: ${refusing.join(', ')}`)
})

test.run()

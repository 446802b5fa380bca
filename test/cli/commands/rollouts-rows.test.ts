// `lambkin rollouts` rows: a rollback has no one version (each device goes back to its own), so
// its VERSION cell says '-', not `0 ()` (a new user's trial read that as a broken version).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { rolloutRows } from '../../../cli/commands/rollouts.js'
import type { RolloutView } from '../../../cli/rollout-view.js'

const view = (more: Partial<RolloutView>): RolloutView => ({
  id: 'r1',
  kind: 'deploy',
  fn: 'alarm',
  number: 3,
  version: 'ab12cd34',
  to: 'group:lab',
  alias: 'live',
  state: 'done',
  counts: { total: 2, applied: 2, failed: 0, rolledBack: 0, offline: 0 },
  createdAt: 1_800_000_000_000,
  ...more
}) as unknown as RolloutView

test('a deploy shows its version number and hash; a rollback shows -', () => {
  const [deploy, rollback] = rolloutRows([view({}), view({ id: 'r2', kind: 'rollback', number: 0, version: '' })])
  assert.is(deploy[3], '3 (ab12cd34)')
  assert.is(rollback[3], '-')
})

test.run()

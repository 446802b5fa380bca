// `lambkin rollouts`: the newest rollouts, what each sends where and how far it got
// (docs/cloud.md, "The operator API": GET /v1/rollouts).
import type { CliIo } from '../io.js'
import { ApiClient } from '../api-client.js'
import type { ApiTarget } from '../api-client.js'
import { apiOptions, command, intOption, runProgram } from '../program.js'
import type { Run } from '../program.js'
import type { RolloutView } from '../rollout-view.js'
import { table, when } from '../table.js'

/**
 * One table row per rollout; the version as its number and content hash, or `-` for a rollback,
 * which takes each device to its own earlier version.
 */
export function rolloutRows (rollouts: RolloutView[]): string[][] {
  return rollouts.map((r) => [
    r.id,
    r.kind,
    r.fn,
    r.version === '' ? '-' : `${r.number} (${r.version})`,
    r.to,
    r.alias === 'canary' ? `canary ${r.weight ?? '?'}%` : r.alias,
    r.state,
    `${r.counts.applied}/${r.counts.total}`,
    String(r.counts.failed),
    String(r.counts.rolledBack),
    String(r.counts.offline),
    when(r.createdAt)
  ])
}

export async function rolloutsCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = argv.includes('--json')
  const program = apiOptions(command('lambkin rollouts', io)
    .description('Lists the newest rollouts first: function, version, target, state (running, done, aborted, cancelled, superseded) and how many devices applied, failed or rolled back, or are offline.')
    .option('--limit <n>', 'how many', intOption('--limit', 1, 1000), 20))
    .action(async (f: ApiTarget & { json?: boolean, limit: number }) => {
      json = f.json === true
      const { rollouts } = await new ApiClient(f).call<{ rollouts: RolloutView[] }>('GET', `/v1/rollouts?limit=${f.limit}`)
      if (json) { io.stdout(JSON.stringify({ rollouts }) + '\n'); return }
      io.stdout(table(['ROLLOUT', 'KIND', 'FUNCTION', 'VERSION', 'TO', 'ALIAS', 'STATE', 'APPLIED', 'FAILED', 'ROLLED BACK', 'OFFLINE', 'CREATED'], rolloutRows(rollouts)))
      const running = rollouts.filter((r) => r.state === 'running')
      if (running.length > 0) io.stdout(`${running.length} running; stop one with \`lambkin rollout cancel <id>\`\n`)
    })
  return await runProgram(program, argv, io, run, () => json)
}

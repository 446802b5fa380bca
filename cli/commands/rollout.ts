// `lambkin rollout status <id>`: a rollout and where each of its targets stands (GET
// /v1/rollouts/:id); `lambkin rollout cancel <id>`: stops a rollout (docs/cloud.md, "The
// operator API": POST /v1/rollouts/:id/cancel). Devices not yet reached keep their version;
// devices already moved stay moved until `lambkin rollback` takes them back.
import { usageError } from '../io.js'
import type { CliIo } from '../io.js'
import { ApiClient, pathPart } from '../api-client.js'
import type { ApiTarget } from '../api-client.js'
import { apiOptions, command, runProgram } from '../program.js'
import type { Run } from '../program.js'
import type { RolloutView } from '../rollout-view.js'
import { countsText, deviceEvent } from '../rollout-events.js'
import { deviceLine } from '../rollout-progress.js'
import { printable } from '../table.js'

/**
 * A rollout in words: what it deploys where, its state and why, the counts (applied split into
 * healthy, in health window and superseded in health window), then one line per target as
 * `lambkin deploy` shows its answers.
 */
export function statusText (v: RolloutView): string {
  const what = v.kind === 'rollback' ? `rollback of ${v.fn}` : `deploy of ${v.fn} version ${v.number} (${v.version})`
  const head = printable(`rollout ${v.id}: ${what} to ${v.to}: ${v.state}${v.reason === undefined ? '' : ` (${v.reason})`}; ${countsText(v.counts, v)}`)
  const width = Math.max(0, ...v.devices.map((d) => d.id.length))
  return [head, ...v.devices.map((d) => deviceLine(deviceEvent(v.id, d), width))].join('\n') + '\n'
}

/** What a cancel did, in words: who keeps which version, and how to revert the moved ones. */
export function cancelText (v: RolloutView & { alreadyFinished?: boolean }): string {
  if (v.alreadyFinished === true) return `rollout ${v.id} had already finished (${v.state}): ${countsText(v.counts)}; nothing changed\n`
  const moved = v.counts.applied
  const revert = moved === 0 ? '' : `; the ${moved} device${moved === 1 ? '' : 's'} already on version ${v.number} ${moved === 1 ? 'stays' : 'stay'} on it (\`lambkin rollback ${v.fn} --to ${v.to}\` takes them back)`
  return `rollout ${v.id} ${v.state}: ${countsText(v.counts)}; devices not yet reached keep their version${revert}\n`
}

export async function rolloutCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = argv.includes('--json')
  const program = command('lambkin rollout', io)
    .description('Acts on one rollout (see lambkin rollouts for their ids).')
    // Without a subcommand there is nothing to do: bad usage, not help.
    .action(() => { throw usageError('name what to do with the rollout', 'usage: lambkin rollout status <id> | lambkin rollout cancel <id>') })
  apiOptions(program.command('status <id>')
    .description('Shows a rollout and where each target stands: pending, sent, applied (in its health window, healthy, or superseded: a newer rollout of the function came while its window was open), failed, rolled back, offline or skipped, with why.'))
    .action(async (id: string, f: ApiTarget & { json?: boolean }) => {
      json = f.json === true
      const v = await new ApiClient(f).call<RolloutView>('GET', `/v1/rollouts/${pathPart(id, 'rollout id')}`)
      io.stdout(json ? JSON.stringify(v) + '\n' : statusText(v))
    })
  apiOptions(program.command('cancel <id>')
    .description('Cancels a rollout: devices not yet reached keep their version; devices already on the new one stay there (lambkin rollback reverts them).'))
    .action(async (id: string, f: ApiTarget & { json?: boolean }) => {
      json = f.json === true
      const v = await new ApiClient(f).call<RolloutView & { alreadyFinished?: boolean }>('POST', `/v1/rollouts/${pathPart(id, 'rollout id')}/cancel`, {})
      io.stdout(json ? JSON.stringify(v) + '\n' : cancelText(v))
    })
  return await runProgram(program, argv, io, run, () => json)
}

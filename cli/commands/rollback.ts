// `lambkin rollback <fn> --to <device|group:name>`: each target goes back to the version it
// ran before its current one (docs/cloud.md, "The operator API": POST /v1/rollbacks), followed like a deploy.
import type { CliIo } from '../io.js'
import { ApiClient } from '../api-client.js'
import type { ApiTarget } from '../api-client.js'
import { parseTarget } from '../deploy-options.js'
import { apiOptions, command, runProgram } from '../program.js'
import type { Run } from '../program.js'
import type { RolloutView } from '../rollout-view.js'
import { watchRollout } from '../watch-rollout.js'

export async function rollbackCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = argv.includes('--json')
  const program = apiOptions(command('lambkin rollback', io, 'usage: lambkin rollback <fn> --to <device|group:name> [--json]')
    .description('Returns a function on a device or a group to the newest earlier version each device applied and kept, and shows each device\'s answer until all have answered. Devices with none are skipped. Ctrl-C stops following, not the rollback.')
    .argument('<fn>', 'function name')
    .requiredOption('--to <target>', 'a device id, or group:<name> for every device of a group', parseTarget))
    .addHelpText('after', '\nExit status: 0 when every online target went back (or had nothing to go back to), 1 otherwise, 2 for bad usage, 130 after Ctrl-C.\n')
    .action(async (fn: string, f: ApiTarget & { to: string, json?: boolean }) => {
      json = f.json === true
      const api = new ApiClient(f)
      const view = await api.call<RolloutView>('POST', '/v1/rollbacks', { fn, to: f.to })
      run.code = await watchRollout(api, view, io, json)
    })
  return await runProgram(program, argv, io, run, () => json)
}

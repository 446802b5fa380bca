// `lambkin rollback <fn> --to <device|group:name>`: each target goes one step back through the
// versions it kept (POST /v1/rollbacks; cloud-sync/registry/deploy-plan.ts, goodBefore),
// followed like a deploy.
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
  const program = apiOptions(command('lambkin rollback', io, 'usage: lambkin rollback <fn> --to <device|group:name> [--no-wait] [--json]')
    .description('Takes a function on a device or a group one step back through the versions each device kept (the last 5 it applied and did not fail or roll back): to the one before its current version. A second rollback goes one further back, never forward (not to a version a cancelled rollout left, nor to one rolled back from). Devices with nothing earlier are skipped. Shows each device\'s answer until every online target has passed its health window, like deploy; Ctrl-C stops following, not the rollback.')
    .argument('<fn>', 'function name')
    .requiredOption('--to <target>', 'a device id, or group:<name> for every device of a group', parseTarget)
    .option('--no-wait', 'return once every online target went back, without waiting for its health verdict or for offline targets'))
    .addHelpText('after', '\nExit status: 0 when every target went back and passed its health window (or had nothing to go back to), 1 otherwise, 2 for bad usage, 3 when some stayed offline (LAMBKIN_DEVICE_OFFLINE), 130 after Ctrl-C.\n')
    .action(async (fn: string, f: ApiTarget & { to: string, json?: boolean, wait?: boolean }) => {
      json = f.json === true
      const api = new ApiClient(f)
      const view = await api.call<RolloutView>('POST', '/v1/rollbacks', { fn, to: f.to })
      run.code = await watchRollout(api, view, io, json, f.wait !== false)
    })
  return await runProgram(program, argv, io, run, () => json)
}

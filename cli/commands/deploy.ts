// `lambkin deploy <fn-dir> --to <device|group:name>`: checks a function folder as the device
// will (manifest, then a compile and init in the same sandbox), packs and signs it [W6],
// uploads it, starts a rollout, and follows it to the end (docs/deploy.md; docs/cloud.md, "The operator API").
import { loadFunctionDir } from '../../src/function/index.js'
import { packBundle, readSigningKey, signBundle } from '../../src/bundle/index.js'
import type { PackedBundle } from '../../src/bundle/index.js'
import { SandboxPool, specOf } from '../../src/sandbox/index.js'
import { ApiClient } from '../api-client.js'
import type { ApiTarget } from '../api-client.js'
import { MAX_TIMEOUT_S, numberOption, parseRate, parseTarget, rolloutRequest, signingKeyFile } from '../deploy-options.js'
import type { DeployFlags } from '../deploy-options.js'
import type { CliIo } from '../io.js'
import { apiOptions, command, runProgram } from '../program.js'
import type { Run } from '../program.js'
import type { RolloutView, UploadedBundle } from '../rollout-view.js'
import { bytes } from '../table.js'
import { watchRollout } from '../watch-rollout.js'
import { secretFileWarning } from '../../src/private-files.js'
import { ErrorCodes, LambkinError } from '../../src/errors.js'

/**
 * readSigningKey(), and when the key was nobody's choice (no --key, no LAMBKIN_KEY) and is not
 * there, says that ./lambkin.key was only the default and how to name the real one: an operator
 * whose key is in ./keys (as the README makes it) was told only to make a new pair.
 * @throws LambkinError LAMBKIN_KEY_INVALID.
 */
function readKeyNamed (file: string, byDefault: boolean): ReturnType<typeof readSigningKey> {
  try {
    return readSigningKey(file)
  } catch (err) {
    if (!byDefault || !(err instanceof LambkinError) || (err.cause as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT') throw err
    throw new LambkinError(ErrorCodes.KEY_INVALID, `no signing key named (--key or LAMBKIN_KEY), and the default ${file} in the current folder is not there: pass --key <dir>/lambkin.key or set LAMBKIN_KEY to the private key \`lambkin keys generate\` wrote, or make a pair with it`, { cause: err, details: err.details })
  }
}

export const DEPLOY_USAGE = 'usage: lambkin deploy <fn-dir> --to <device|group:name> [--alias live|canary] [--canary percent] [--rate devices/min] [--abort-at failure%] [--timeout s] [--no-wait] [--key file] [--layers dir] [--json]'

/** The rollout flags (deploy-options.ts) plus what only the command itself reads. */
interface DeployCommandFlags extends DeployFlags, ApiTarget {
  /** False with --no-wait: follow to "applied" only. */
  wait?: boolean
  key?: string
  layers?: string
  json?: boolean
}

/** The least time the compile check gives a module's top-level code, ms. */
const CHECK_LOAD_MIN_MS = 5000

/**
 * Compiles and initialises the function in a one-worker sandbox pool and closes it, so a
 * version that cannot load on a board never leaves the operator's machine.
 * @throws LambkinError the sandbox's code (LAMBKIN_FUNCTION_ERROR, LAMBKIN_MEMORY_LIMIT...).
 */
async function compileCheck (fn: Awaited<ReturnType<typeof loadFunctionDir>>): Promise<void> {
  const pool = await SandboxPool.create({ workers: 1, spares: 0, deviceId: 'local' })
  try {
    // The board judges the function's timeoutMs; this checks that it compiles and its top-level
    // code ends. The first instance of a fresh process runs cold, and on a busy machine took
    // longer than a 200 ms timeoutMs plus the watchdog's grace (LAMBKIN_TIMEOUT for a function
    // the boards then loaded at once), so the check allows CHECK_LOAD_MIN_MS at least.
    await pool.load({ ...specOf(fn, { timeoutMs: Math.max(fn.manifest.limits.timeoutMs, CHECK_LOAD_MIN_MS) }), provisioned: 0 })
  } finally {
    await pool.close()
  }
}

/** `lambkin deploy`: the exit codes of its help (rollout-events.ts, EXIT_CODES), 2 for bad usage, 130 after Ctrl-C. */
export async function deployCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = argv.includes('--json')
  const program = apiOptions(command('lambkin deploy', io, DEPLOY_USAGE)
    .description('Deploys a function folder to a device or a group: validates and compiles it, packs and signs it, uploads it, starts a rollout and shows each device\'s answer until every online target has passed its health window (the board watches a new version\'s errors for deploy.healthWindowMs after the swap) or rolled back. Offline targets are waited for up to --timeout, then named. Ctrl-C stops following; the rollout goes on (lambkin rollout cancel <id> stops it).')
    .argument('<fn-dir>', 'the function folder (function.json and its code)')
    .requiredOption('--to <target>', 'a device id, or group:<name> for every device of a group', parseTarget)
    .option('--alias <alias>', 'live (default) or canary')
    .option('--canary <percent>', 'deploy as a canary taking this share of invocations (1-99); the rest stay on live', numberOption('--canary', 1, 99, true))
    .option('--rate <devices/min>', 'send to at most this many devices a minute (default: all at once)', parseRate)
    .option('--abort-at <percent>', 'stop the rollout once this share of targets failed or rolled back (0-100, default 100: never); devices already moved roll back', numberOption('--abort-at', 0, 100))
    .option('--timeout <s>', `seconds each device has to answer; an offline target is waited for as long (1-${MAX_TIMEOUT_S}, default 120)`, numberOption('--timeout', 1, MAX_TIMEOUT_S))
    .option('--no-wait', 'return once every online target applied, without waiting for the health verdict or for offline targets (with --rate, that is once the last target was sent: Ctrl-C leaves the rollout going on)')
    .option('--key <file>', 'private key that signs the bundle (default LAMBKIN_KEY, else ./lambkin.key)')
    .option('--layers <dir>', 'folder of layers (default: layers/ beside the function folder)'))
    .addHelpText('after', '\nExit status: 0 when every target passed its health window (with --no-wait: every online target applied), 1 when a target failed, rolled back or gave no verdict in time, or the rollout was aborted, cancelled or superseded (LAMBKIN_* code on stderr), 2 for bad usage, 3 when every online target is healthy but some stayed offline past --timeout (LAMBKIN_DEVICE_OFFLINE: they get the version when they return), 130 after Ctrl-C.\nWith --json, one JSON object per line: bundle, rollout, device (each answer; an applied one with health watching, then passed), progress (counts), then end { ok, exitCode, code, message, counts, devices } as the summary.\n')
    .action(async (dir: string, f: DeployCommandFlags) => {
      json = f.json === true
      // Flag combinations are refused before any work.
      const request = rolloutRequest(f)
      const api = new ApiClient(f)
      const keyFile = signingKeyFile(f.key)
      const key = readKeyNamed(keyFile, f.key === undefined && (process.env.LAMBKIN_KEY ?? '') === '')
      const exposed = secretFileWarning(keyFile, 'the signing key')
      if (exposed !== undefined) io.stderr(`${exposed}\n`)
      const fn = await loadFunctionDir(dir, { layersDir: f.layers })
      await compileCheck(fn)
      // An unknown device, a revoked one or an empty group is refused before anything is uploaded.
      await api.call<{ devices: string[] }>('GET', `/v1/targets/${encodeURIComponent(f.to)}`)
      const packed: PackedBundle = packBundle(fn)
      const sig = signBundle(packed.sha256, key)
      const uploaded = await api.call<UploadedBundle>('POST', '/v1/bundles', {
        bundle: packed.bytes.toString('base64'),
        sha256: packed.sha256,
        signature: Buffer.from(sig.signature).toString('base64'),
        keyId: sig.keyId
      })
      if (json) io.stdout(JSON.stringify({ event: 'bundle', ...uploaded, keyId: sig.keyId }) + '\n')
      else io.stdout(`${uploaded.name} version ${uploaded.number} (${uploaded.version}): bundle sha256 ${uploaded.sha256.slice(0, 12)}, ${bytes(uploaded.size)}, signed by key ${sig.keyId}\n`)
      const view = await api.call<RolloutView>('POST', '/v1/rollouts', { ...request, sha256: packed.sha256 })
      run.code = await watchRollout(api, view, io, json, f.wait !== false)
    })
  return await runProgram(program, argv, io, run, () => json)
}

// `lambkin device install-service`: writes the systemd unit that runs the agent at boot with
// the options given (the same flags as `lambkin device`), after checking them as the agent
// would, and says how to start, stop and read the journal (docs/boards.md, "Running as a service").
import { chmodSync, mkdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { deviceConfigUsage, envNameOf, fieldAt, FLAGS, loadDeviceConfig } from '../../device/config/index.js'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { memoryProfile } from '../../device/config/memory-profile.js'
import { planRuntime } from '../node-runtime.js'
import { EXIT_OK } from '../io.js'
import type { CliIo } from '../io.js'
import { command, runProgram } from '../program.js'
import type { Run } from '../program.js'
import { configFlagValues, configOptions } from './device.js'
import type { DeviceFlags } from './device.js'
import { DEFAULT_DATA_DIR, DEFAULT_ENV_FILE, DEFAULT_FUNCTIONS_DIR, renderEnvFile, renderSysusers, renderUnit, SERVICE_USER, UNIT_NAME } from '../systemd-unit.js'
import type { UnitSpec } from '../systemd-unit.js'

export const INSTALL_SERVICE_USAGE = `usage: lambkin device install-service [the flags of lambkin device]... [--print]
                      [--unit-dir dir] [--sysusers-dir dir] [--secrets-file file] [--node path]

Writes ${UNIT_NAME}.service (systemd) to run \`lambkin device\` at boot with these flags, as
the user ${SERVICE_USER}, data in ${DEFAULT_DATA_DIR} and functions in ${DEFAULT_FUNCTIONS_DIR} unless
given. Passwords (--cloud-password, LAMBKIN_CLOUD_PASSWORD, the mqtt ones) go to --secrets-file,
mode 0600, never into the unit. --print shows what would be written and writes nothing.
`

type Flags = DeviceFlags & { print?: boolean, unitDir: string, sysusersDir: string, secretsFile: string, node?: string }

/** Config keys whose values are secrets (schema: string fields marked secret). */
const SECRET_KEYS = FLAGS.filter((f) => f.key !== 'file' && fieldAt(f.key)?.kind === 'string' && (fieldAt(f.key) as { secret?: boolean }).secret === true).map((f) => f.key)
const HOME = /^\/(home|root|run\/user)(\/|$)/
/** Where PrivateTmp=yes would give the service an empty folder of its own instead. */
const TMP = /^\/(tmp|var\/tmp)(\/|$)/

export async function installServiceCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: EXIT_OK }
  const program = configOptions(command('lambkin device install-service', io, INSTALL_SERVICE_USAGE)
    .description('Writes a systemd unit that runs lambkin device at boot with these flags, and says how to start, stop and read its journal.'))
    .option('--quiet', 'the agent prints failed invocations only (fewer journal lines)')
    .option('--print', 'print the unit (and the other files) instead of writing them')
    .option('--dry-run', 'the same as --print')
    .option('--unit-dir <dir>', 'where the unit goes', '/etc/systemd/system')
    .option('--sysusers-dir <dir>', `where the sysusers.d entry making the ${SERVICE_USER} user goes`, '/etc/sysusers.d')
    // Not --env-file: Node 20 takes that flag for itself wherever it appears on the command line.
    .option('--secrets-file <file>', 'where the secrets go (mode 0600)', DEFAULT_ENV_FILE)
    .option('--node <path>', 'the node binary the unit starts (default: the one running this)')
    .addHelpText('after', `\n${INSTALL_SERVICE_USAGE}\n${deviceConfigUsage()}`)
    .action(async (flags: Flags) => { run.code = await install(flags, io) })
  return await runProgram(program, argv, io, run)
}

/** Writes every file beside its place first, then renames them in: all of them or none. */
function writeAll (files: ReadonlyArray<{ file: string, text: string, mode: number }>): void {
  const written: string[] = []
  try {
    for (const f of files) {
      mkdirSync(path.dirname(f.file), { recursive: true })
      const part = `${f.file}.lambkin-part`
      written.push(part)
      writeFileSync(part, f.text, { mode: f.mode })
      chmodSync(part, f.mode)
    }
    for (const f of files) renameSync(`${f.file}.lambkin-part`, f.file)
  } catch (cause) {
    for (const part of written) rmSync(part, { force: true })
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause)
    const where = (cause as NodeJS.ErrnoException).path ?? ''
    throw new LambkinError(ErrorCodes.INSTALL_FAILED, `could not write ${where.replace(/\.lambkin-part$/, '')} (${code}); nothing was installed. Run it as root, or point --unit-dir, --sysusers-dir and --secrets-file elsewhere`, { cause })
  }
}

async function install (flags: Flags, io: CliIo): Promise<number> {
  const cwd = process.cwd()
  const given = configFlagValues(flags)
  // Secrets from the flags or this shell's variables go to the env file only.
  const secrets: Record<string, string> = {}
  for (const key of SECRET_KEYS) {
    const flag = FLAGS.find((f) => f.key === key)?.name as string
    const value = given[flag] ?? process.env[envNameOf(key)]
    if (typeof value === 'string' && value !== '') secrets[envNameOf(key)] = value
    delete given[flag]
  }
  given.data ??= DEFAULT_DATA_DIR
  given.functions ??= DEFAULT_FUNCTIONS_DIR
  // Checked now as the agent will check them, so a typo fails here and not at boot. Only the
  // flags and the secrets count: the unit does not carry this shell's other variables.
  const config = await loadDeviceConfig({ flags: given, env: secrets, cwd, trust: flags.trust })

  // Paths absolute, as the loader resolved them; the unit's working directory is the data folder.
  const args: string[] = []
  const paths: string[] = []
  for (const f of FLAGS) {
    let v = given[f.name]
    if (v === undefined) continue
    const kind = f.key === 'file' ? 'path' : fieldAt(f.key)?.kind
    if (typeof v === 'string' && kind === 'path') paths.push(v = path.resolve(cwd, v))
    if (typeof v === 'string' && kind === 'paths') {
      const list = v.split(',').map((p) => p.trim()).filter((p) => p !== '').map((p) => path.resolve(cwd, p))
      paths.push(...list)
      v = list.join(',')
    }
    args.push(`--${f.name}`, ...(v === true ? [] : [String(v)]))
  }
  for (const t of flags.trust ?? []) {
    const file = path.resolve(cwd, t)
    args.push('--trust', file)
    paths.push(file)
  }
  if (flags.quiet === true) args.push('--quiet')

  // The board's flags and variables (cli/node-runtime.ts), set up front: one Node process.
  const runtime = planRuntime({ arch: process.arch, env: process.env, execArgv: [] })
  const env: Record<string, string> = { LAMBKIN_MEMORY: memoryProfile(process.env, process.arch) ?? 'node', ...runtime.env }
  if (process.env.LAMBKIN_WASM_TRAP_HANDLER !== undefined && process.env.LAMBKIN_WASM_TRAP_HANDLER !== '') env.LAMBKIN_WASM_TRAP_HANDLER = process.env.LAMBKIN_WASM_TRAP_HANDLER
  const node = realpathSync(flags.node ?? process.execPath)
  const bin = realpathSync(fileURLToPath(new URL('../bin.js', import.meta.url)))
  const spec: UnitSpec = {
    node,
    nodeFlags: runtime.flags,
    bin,
    args,
    env,
    user: SERVICE_USER,
    dataDir: config.dataDir,
    envFile: path.resolve(cwd, flags.secretsFile),
    lowPort: [config.brokerPort, config.metricsPort].some((p) => p !== undefined && p > 0 && p < 1024),
    readsHome: [node, bin, ...paths].some((p) => HOME.test(p)),
    readsTmp: [node, bin, config.dataDir, ...paths].some((p) => TMP.test(p))
  }
  const files = [
    { file: path.resolve(cwd, flags.unitDir, `${UNIT_NAME}.service`), text: renderUnit(spec), mode: 0o644 },
    { file: path.resolve(cwd, flags.sysusersDir, `${SERVICE_USER}.conf`), text: renderSysusers(SERVICE_USER, config.dataDir), mode: 0o644 },
    ...(Object.keys(secrets).length === 0 ? [] : [{ file: spec.envFile, text: renderEnvFile(secrets), mode: 0o600 }])
  ]

  if (flags.print === true || flags.dryRun === true) {
    for (const f of files) {
      const shown = f.mode === 0o600 ? renderEnvFile(Object.fromEntries(Object.keys(secrets).map((k) => [k, '***']))) : f.text
      io.stdout(`# ${f.file} (mode ${f.mode.toString(8)})\n${shown}\n`)
    }
    return EXIT_OK
  }
  writeAll(files)
  for (const f of files) io.stdout(`wrote ${f.file}\n`)
  io.stdout([
    '',
    'Then, as root:',
    `  systemd-sysusers ${files[1]?.file ?? ''}   # makes the ${SERVICE_USER} user`,
    '  systemctl daemon-reload',
    `  systemctl enable --now ${UNIT_NAME}      # starts it now and at every boot`,
    `Stop it: systemctl stop ${UNIT_NAME} (disable --now: and not at boot)`,
    `Its log: journalctl -u ${UNIT_NAME} -f (-p warning: warnings and errors only)`,
    `Its state: systemctl status ${UNIT_NAME}`,
    ...(config.functionsDir === DEFAULT_FUNCTIONS_DIR ? [`Functions go in ${DEFAULT_FUNCTIONS_DIR} (readable by ${SERVICE_USER}).`] : []),
    ''
  ].join('\n'))
  return EXIT_OK
}

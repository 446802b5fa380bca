// Runs a commander command tree with lambkin's conventions (docs/architecture.md, "Command line"): output
// through the injected CliIo, `--help` on every command (exit 0), bad usage as
// `LAMBKIN_USAGE: …` plus that command's usage on stderr (exit 2), and failures as
// `CODE: message` (exit 1). With --json, bad usage and failures are one JSON object on stdout,
// `{ "ok": false, "error": { code, message } }`, as every command prints errors with --json.
import { Command, CommanderError, InvalidArgumentError } from 'commander'
import type { Option } from 'commander'
import { ErrorCodes, LambkinError } from '../src/errors.js'
import { EXIT_OK, EXIT_USAGE, printError } from './io.js'
import type { CliIo } from './io.js'

/** What an action reports back: its exit code. */
export interface Run { code: number }

/**
 * A new commander command writing to `io`, throwing instead of exiting. After a usage error
 * it prints `usage` (a one-line synopsis) when given, else the whole help.
 */
export function command (name: string, io: CliIo, usage?: string): Command {
  return new Command(name)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) => write(`LAMBKIN_USAGE: ${s.replace(/^error: /, '')}`)
    })
    .showHelpAfterError(usage ?? true)
    .allowExcessArguments(false)
}

/**
 * `lambkin devices remove gh-01`: a command that has subcommands and an action of its own (the
 * list) would take the unknown word for an argument and say "too many arguments"; it is an
 * unknown command, as commander says when the command has no action; a lone `help` shows the
 * command's help. Throws a CommanderError (commander.help for `help`).
 */
function refuseUnknownSubcommand (program: Command, argv: string[]): void {
  const word = argv[0]
  if (program.commands.length === 0 || program.registeredArguments.length > 0 || word === undefined || word.startsWith('-')) return
  // `lambkin devices help`: the command's help, as `lambkin help` gives the top-level one.
  if (word === 'help' && argv.length === 1) program.help()
  if (word === 'help' || program.commands.some((c) => c.name() === word || c.aliases().includes(word))) return
  program.error(`unknown command '${word}'`, { code: 'commander.unknownCommand', exitCode: EXIT_USAGE })
}

/**
 * Parses `argv` (the words after the command name) with `program` and runs its action.
 * Returns the exit code: the action's, 0 for --help, 2 for bad usage, 1 for a thrown error.
 */
export async function runProgram (program: Command, argv: string[], io: CliIo, run: Run, json = (): boolean => false): Promise<number> {
  // Asked for JSON, a script gets JSON for bad usage too: commander's text and help are held back.
  const wantsJson = argv.includes('--json')
  if (wantsJson) quietUsage(program)
  strayWordsFirst(program)
  try {
    refuseUnknownSubcommand(program, argv)
    await program.parseAsync(argv, { from: 'user' })
    return run.code
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return EXIT_OK
      if (wantsJson) printError(io, new LambkinError(ErrorCodes.USAGE, err.message.replace(/^error: /, '')), true)
      return EXIT_USAGE
    }
    return printError(io, err, json() || wantsJson)
  }
}

/** The options a command must be given, taken from commander so they are checked after stray words. */
const mandatory = new WeakMap<Command, Option[]>()

/**
 * `lambkin cloud constructor` (or `lambkin cloud --dta x`): commander checks required options
 * before it looks at stray words and unknown options, so it said "required option '--data <dir>'
 * not specified" about a command line whose real fault is the word. Here the required options
 * and the excess-argument check move to a preAction hook, which runs after commander's unknown
 * option check: an unknown option first, then the stray word (named), then a missing option.
 * Idempotent: a program parsed twice is walked once.
 */
function strayWordsFirst (program: Command): void {
  if (mandatory.has(program)) return
  const walk = (c: Command): void => {
    const must = c.options.filter((o) => o.mandatory)
    for (const o of must) o.makeOptionMandatory(false)
    mandatory.set(c, must)
    c.allowExcessArguments(true)
    for (const sub of c.commands) walk(sub)
  }
  walk(program)
  program.hook('preAction', (_root, action) => {
    const expected = action.registeredArguments
    const variadic = expected.at(-1)?.variadic === true
    if (!variadic && action.args.length > expected.length) {
      const takes = expected.length === 0 ? 'no arguments' : `${expected.length} argument${expected.length === 1 ? '' : 's'} (${expected.map((a) => `<${a.name()}>`).join(' ')})`
      // The whole command line's name: 'status' alone would read as lambkin status, not lambkin rollout status.
      const names: string[] = []
      for (let c: Command | null = action; c !== null; c = c.parent) names.unshift(c.name())
      action.error(`too many arguments for '${names.join(' ')}': unexpected '${action.args[expected.length]}' (it takes ${takes})`, { code: 'commander.excessArguments', exitCode: EXIT_USAGE })
    }
    for (let c: Command | null = action; c !== null; c = c.parent) {
      const missing = (mandatory.get(c) ?? []).find((o) => c?.getOptionValue(o.attributeName()) === undefined)
      if (missing !== undefined) c.error(`required option '${missing.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue', exitCode: EXIT_USAGE })
    }
  })
}

function quietUsage (c: Command): void {
  c.configureOutput({ outputError: () => {} }).showHelpAfterError(false)
  for (const sub of c.commands) quietUsage(sub)
}

/** Parses a decimal integer option in [min, max]; commander calls it with the raw text. */
export function intOption (name: string, min: number, max: number): (raw: string) => number {
  return (raw) => {
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`)
    return Number(raw)
  }
}

/** Adds the options every operator command takes: --api, --token, --json. */
export function apiOptions (c: Command): Command {
  return c
    .option('--api <url>', 'operator API (default LAMBKIN_API or http://127.0.0.1:8080)')
    .option('--token <token>', 'operator token (default LAMBKIN_TOKEN)')
    .option('--json', 'machine-readable output')
}

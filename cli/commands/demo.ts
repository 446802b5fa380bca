// `lambkin demo` (npm start): a cloud and two boards on this machine, the examples signed and
// deployed through `lambkin deploy`, simulated sensors, and what to try next (demo-run.ts).
// This file stays light, so the first line shows before the rest is loaded.
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { InvalidArgumentError } from 'commander'
import { command, runProgram } from '../program.js'
import type { Run } from '../program.js'
import { EXIT_OK } from '../io.js'
import type { CliIo } from '../io.js'
import { parseDecimalNumber } from '../../src/decimal.js'
import { ErrorCodes, LambkinError } from '../../src/errors.js'

export const DEMO_USAGE = `usage: lambkin demo [--seconds N] [--data dir]

Starts a lambkin cloud and two boards (greenhouse and office, each a lambkin device with its
own embedded MQTT broker) on this machine, signs and deploys the examples to both through
lambkin deploy, feeds them simulated sensors (MQTT readings and a sysfs-style thermal zone
file), and prints what to try next. Type "cloud" and Enter to stop the cloud and start it
again. Runs until Ctrl-C, or for N seconds. Without --data everything lives in a temporary
folder removed at the end; --data keeps it in a new or empty folder.
`

const MAX_SECONDS = 86_400

/** `lambkin demo`: parses argv with commander; returns the exit code (0 done, 1 failed, 2 bad usage). */
export async function demoCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: EXIT_OK }
  const program = command('lambkin demo', io, DEMO_USAGE)
    .description(DEMO_USAGE.slice(DEMO_USAGE.indexOf('\n\n') + 2).trim().replace(/\s*\n\s*/g, ' '))
    .option('--seconds <N>', `stop after N seconds (above 0, at most ${MAX_SECONDS})`, (raw: string) => {
      const n = parseDecimalNumber(raw)
      if (n === undefined || n <= 0 || n > MAX_SECONDS) throw new InvalidArgumentError(`--seconds must be a number above 0 and at most ${MAX_SECONDS}`)
      return n
    })
    .option('--data <dir>', 'keep everything in this folder, new or empty (default: a temporary one, removed at the end)')
    .action(async (f: { seconds?: number, data?: string }) => {
      const data = f.data === undefined ? undefined : path.resolve(f.data)
      if (data !== undefined && existsSync(data) && readdirSync(data).length > 0) {
        throw new LambkinError(ErrorCodes.USAGE, `--data ${data} is not empty: the demo makes a new cloud, keys and boards there; give a new or empty folder`)
      }
      io.stdout('lambkin demo: a cloud and two boards (greenhouse, office) on this machine, the examples deployed to both. Starting…\n')
      const { runDemo } = await import('./demo-run.js')
      run.code = await runDemo({ seconds: f.seconds, data }, io)
    })
  return await runProgram(program, argv, io, run)
}

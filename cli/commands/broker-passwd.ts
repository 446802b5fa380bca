// `lambkin broker-passwd <username>`: reads a password from stdin and prints the user entry
// (scrypt hash, grants) to paste into the device config's `broker.users` or `broker.usersFile`.
import { filterProblem } from '../../device/links/broker/acl.js'
import { hashPassword } from '../../src/secrets.js'
import { EXIT_OK, printError, usageError } from '../io.js'
import type { CliIo } from '../io.js'
import { command, runProgram } from '../program.js'
import type { Run } from '../program.js'

export const BROKER_PASSWD_USAGE = `usage: lambkin broker-passwd <username> [--publish filter]... [--subscribe filter]... [--retain]

Reads the password from stdin (typed without echo on a terminal, or the first line of a pipe:
  printf '%s\\n' "$PASSWORD" | lambkin broker-passwd sensor-1 --publish 'sensors/#')
and prints a user entry for the embedded broker: add it to "broker.users" in the device config,
or to the JSON array in "broker.usersFile". The password itself is not printed or stored.
--publish / --subscribe: MQTT topic filters the user may publish to / subscribe within
(repeatable; none by default). --retain: the user may publish retained messages.
`

/** Longest password read: MQTT's password field holds at most 65,535 bytes (section 3.1.3.5). */
const MAX_PASSWORD_BYTES = 65_535

async function readPipe (input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of input) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    chunks.push(b)
    size += b.length
    if (size > MAX_PASSWORD_BYTES + 2) break
  }
  const text = Buffer.concat(chunks).toString('utf8')
  const line = text.split(/\r?\n/)[0] ?? ''
  if (Buffer.byteLength(line) > MAX_PASSWORD_BYTES) throw usageError(`the password is over ${MAX_PASSWORD_BYTES} bytes`, BROKER_PASSWD_USAGE)
  return line
}

/** A line typed on the terminal without echo; Ctrl-C cancels. */
async function readHidden (input: NodeJS.ReadStream, io: CliIo, prompt: string): Promise<string> {
  io.stderr(prompt)
  input.setRawMode(true)
  input.resume()
  let typed = ''
  return await new Promise((resolve, reject) => {
    const finish = (): void => {
      input.off('data', onData)
      input.setRawMode(false)
      input.pause()
      io.stderr('\n')
    }
    const onData = (buf: Buffer): void => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') { finish(); resolve(typed); return }
        if (ch === '\u0003') { finish(); reject(usageError('cancelled', BROKER_PASSWD_USAGE)); return }
        typed = ch === '\u007f' || ch === '\b' ? [...typed].slice(0, -1).join('') : typed + ch
      }
    }
    input.on('data', onData)
  })
}

/** Exit 0 with the entry on stdout; 2 on a usage error (no user name, a bad filter, an empty password). */
export async function brokerPasswdCommand (argv: string[], io: CliIo, input: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const run: Run = { code: EXIT_OK }
  const repeat = (v: string, all: string[] = []): string[] => [...all, v]
  const program = command('lambkin broker-passwd', io, BROKER_PASSWD_USAGE)
    .description(BROKER_PASSWD_USAGE.slice(BROKER_PASSWD_USAGE.indexOf('\n\n') + 2).trim())
    .argument('<username>', 'the MQTT user name')
    .option('--publish <filter>', 'a topic filter the user may publish to (repeatable)', repeat)
    .option('--subscribe <filter>', 'a topic filter the user may subscribe within (repeatable)', repeat)
    .option('--retain', 'the user may publish retained messages')
    .action(async (username: string, f: { publish?: string[], subscribe?: string[], retain?: boolean }) => {
      run.code = await makeEntry(username, f.publish ?? [], f.subscribe ?? [], f.retain === true, io, input)
    })
  return await runProgram(program, argv, io, run)
}

async function makeEntry (username: string, publish: string[], subscribe: string[], retain: boolean, io: CliIo, input: NodeJS.ReadableStream): Promise<number> {
  try {
    if (/[\u0000-\u001f\u007f]/.test(username) || username.length === 0 || username.length > 256) throw usageError('the user name must be 1 to 256 characters without control characters', BROKER_PASSWD_USAGE)
    for (const f of [...publish, ...subscribe]) {
      const problem = filterProblem(f)
      if (problem !== undefined) throw usageError(`topic filter ${JSON.stringify(f)} ${problem}`, BROKER_PASSWD_USAGE)
    }
    const tty = (input as NodeJS.ReadStream).isTTY === true && typeof (input as NodeJS.ReadStream).setRawMode === 'function'
    const password = tty ? await readHidden(input as NodeJS.ReadStream, io, `Password for ${username}: `) : await readPipe(input)
    if (password.length === 0) throw usageError('the password is empty', BROKER_PASSWD_USAGE)
    const entry = { username, passwordHash: await hashPassword(password), publish, subscribe, retain }
    io.stdout(JSON.stringify(entry) + '\n')
    return EXIT_OK
  } catch (err) {
    return printError(io, err, false)
  }
}

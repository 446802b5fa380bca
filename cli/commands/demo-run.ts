// The demo's steps, each the real command a user would run (docs/cli.md, "lambkin demo"): stage the
// folder (demo-world.ts), start `lambkin cloud`, register the boards through the operator API,
// start each board as `lambkin device`, feed the sensors (demo-feed.ts), deploy the examples
// with `lambkin deploy` (their progress shown live), print what to try (demo-guide.ts), then
// wait for Ctrl-C. Stopping undoes the steps in reverse: sensors, boards (they drain), cloud.
import { fstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { Interface } from 'node:readline'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { logText } from '../../src/log-text.js'
import { makeFolder } from '../../src/data-dir.js'
import { readThroughAgent } from '../agent-outbox.js'
import { EXIT_FAILURE, EXIT_OK, printError } from '../io.js'
import type { CliIo } from '../io.js'
import { STOP_SIGNALS, untilSignal } from '../signals.js'
import { DemoChild, LAMBKIN_BIN } from './demo-child.js'
import { startFeed } from './demo-feed.js'
import type { Feed } from './demo-feed.js'
import { guideText } from './demo-guide.js'
import { DEMO_GROUP, DEPLOYED_EXAMPLES, stageWorld, writeBoardConfig } from './demo-world.js'
import type { DemoBoard, DemoWorld } from './demo-world.js'

export interface DemoOptions {
  /** Stop after this many seconds; undefined: at Ctrl-C. */
  seconds?: number
  /** Keep everything here (new or empty); undefined: a temporary folder removed at the end. */
  data?: string
}

/** How long a start-up step may take before the demo gives up (a slow board builds its first sandboxes). */
const START_MS = 120_000
/** Examples deployed at once: each `lambkin deploy` is a Node process that loads its function to check it. */
const DEPLOYS_AT_ONCE = 2
/** Tries per example: a busy machine may fail one for want of time, worth another go. */
const DEPLOY_TRIES = 3
/** How often the backlog is shown while the cloud is away, ms. */
const BACKLOG_EVERY_MS = 3000
/** A board whose outbox holds fewer records than this has caught up (new results keep coming). */
const CAUGHT_UP = 50

const CLOUD_READY = /lambkin cloud ready: broker (\S+); api (\S+); operator token in (\S+)/
const BOARD_READY = /lambkin device (\S+) ready: (.*)$/

class Stopped extends Error {}

function readsInput (): boolean {
  try {
    const st = fstatSync(0)
    return process.stdin.isTTY || st.isFIFO() || st.isSocket()
  } catch {
    return false
  }
}

function clockTime (): string {
  return new Date().toTimeString().slice(0, 8)
}

/** Runs the demo; resolves with the exit code (0 after Ctrl-C or --seconds, 1 when a step failed). */
export async function runDemo (o: DemoOptions, io: CliIo): Promise<number> {
  const root = o.data ?? mkdtempSync(path.join(tmpdir(), 'lambkin-demo-'))
  if (o.data !== undefined) makeFolder(root, '--data', 0o700)
  // Its children run in their own process groups, so a closed terminal's SIGHUP reaches the demo
  // alone: it stops them as for Ctrl-C, or they would run on, orphaned.
  const signals = untilSignal(io, 'in-flight invocations', [...STOP_SIGNALS, 'SIGHUP'])
  const stopped = signals.stopped.then(() => { throw new Stopped() })
  stopped.catch(() => {})
  const step = async <T>(p: Promise<T>): Promise<T> => await Promise.race([p, stopped])
  const width = 'deploy threshold-alarm'.length + 2
  const say = (who: string, line: string): void => io.stdout(`${clockTime()}  ${who.padEnd(width)}${logText(line)}\n`)
  const boards: Array<{ b: DemoBoard, child: DemoChild }> = []
  const deploys = new Set<DemoChild>()
  let cloud: DemoChild | undefined
  let feed: Feed | undefined
  let feedStart: Promise<Feed> | undefined
  let input: Interface | undefined
  /** Set as the stop begins: no step starts anything after it. */
  let stopping = false
  let backlogTimer: NodeJS.Timeout | undefined
  let deadline: NodeJS.Timeout | undefined
  try {
    say('demo', `[1/5] staging keys, examples and two boards in ${root}`)
    const world = stageWorld(root)

    say('demo', '[2/5] starting the cloud: lambkin cloud')
    const cloudArgs = (port: string, apiPort: string): string[] => ['cloud', '--data', world.cloudDir, '--port', port, '--api-port', apiPort, '--trust', world.publicKeyFile]
    const startCloud = (args: string[]): DemoChild => new DemoChild('cloud', args, { onLine: (l) => say('cloud', l) })
    cloud = startCloud(cloudArgs('0', '0'))
    const ready = await step(cloud.line(CLOUD_READY, START_MS))
    const [brokerUrl, api, tokenFile] = [ready[1], ready[2], ready[3]]
    const ports = { broker: new URL(brokerUrl).port, api: new URL(api).port }
    const token = readFileSync(tokenFile, 'utf8').trim()
    const env = { LAMBKIN_API: api, LAMBKIN_TOKEN: token, LAMBKIN_KEY: world.keyFile }

    say('demo', `[3/5] starting the boards ${world.boards.map((b) => b.id).join(' and ')}: lambkin device, each in group:${DEMO_GROUP}`)
    const trusted = [world.publicKeyFile, path.join(world.cloudDir, 'cloud-signing.pub')]
    for (const b of world.boards) {
      writeBoardConfig(b, brokerUrl, await addDevice(api, token, b.id), trusted)
      // --quiet: failures, function log lines and the agent's own lines (deploys, reloads), not every call.
      boards.push({ b, child: new DemoChild(b.id, ['device', '--config', b.configFile, '--quiet'], { onLine: (l) => say(b.id, l) }) })
    }
    const brokers = new Map<string, string>()
    for (const { b, child } of boards) {
      const m = await step(child.line(BOARD_READY, START_MS))
      const url = /\bbroker (mqtt:\/\/\S+?)(?:;|$)/.exec(m[2])?.[1]
      if (url === undefined) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `board ${b.id} started without its embedded broker`)
      brokers.set(b.id, url)
    }

    say('demo', '[4/5] simulated sensors: sensors/<room>/temperature, humidity and co2 every 500 ms over MQTT, and a thermal zone file')
    // Kept, so a stop that comes while the feed starts still stops it once it has.
    feedStart = startFeed(brokers, world.thermalFile, () => {})
    feed = await step(feedStart)

    say('demo', `[5/5] signing and deploying ${DEPLOYED_EXAMPLES.length} examples to group:${DEMO_GROUP}: lambkin deploy, ${DEPLOYS_AT_ONCE} at a time`)
    const failed = await step(deployAll(world, env, say, deploys, () => stopping))
    say('demo', failed.length === 0
      ? `deployed ${DEPLOYED_EXAMPLES.length} examples to both boards`
      : `${failed.join(', ')} did not deploy (see above); the rest run`)

    // "cloud" + Enter toggles the cloud, to watch the boards buffer and then drain.
    // Only from a terminal or a pipe: /dev/null (a service, a test) has nothing to say.
    let inputOpen = readsInput()
    let cloudBusy = false
    const toggleCloud = async (): Promise<void> => {
      if (cloudBusy) return
      cloudBusy = true
      try {
        if (cloud?.running === true) {
          say('demo', 'stopping the cloud: the boards keep running and keep what they produce in their outboxes')
          await cloud.stop('SIGTERM', 20_000)
          backlogTimer = setInterval(() => { void showBacklog(world, say, false) }, BACKLOG_EVERY_MS)
        } else {
          say('demo', 'starting the cloud again on the same data and ports')
          cloud = startCloud(cloudArgs(ports.broker, ports.api))
          await cloud.line(CLOUD_READY, START_MS)
          clearInterval(backlogTimer)
          backlogTimer = setInterval(() => {
            void showBacklog(world, say, true).then((done) => { if (done) { clearInterval(backlogTimer); backlogTimer = undefined } })
          }, 1000)
        }
      } catch (err) {
        say('demo', `the cloud: ${errorMessage(err)}`)
      } finally {
        cloudBusy = false
      }
    }
    if (inputOpen) {
      input = createInterface({ input: process.stdin })
      input.on('line', (l) => { if (l.trim() === 'cloud') void toggleCloud() })
      input.on('close', () => { inputOpen = false })
    }

    io.stdout(guideText({
      bin: LAMBKIN_BIN,
      api,
      tokenFile,
      keyFile: world.keyFile,
      group: DEMO_GROUP,
      brokerPorts: new Map([...brokers].map(([id, url]) => [id, Number(new URL(url).port)])),
      examplesDir: world.examplesDir,
      brokenDir: world.brokenDir,
      localFunctions: world.boards[0].functionsDir,
      cloudToggle: inputOpen
    }))
    const seconds = o.seconds
    const timeUp = seconds === undefined ? undefined : new Promise<void>((resolve) => { deadline = setTimeout(resolve, seconds * 1000) })
    await (timeUp === undefined ? signals.stopped : Promise.race([signals.stopped, timeUp]))
    return await stopAll(EXIT_OK)
  } catch (err) {
    if (err instanceof Stopped) return await stopAll(EXIT_OK)
    printError(io, err, false)
    return await stopAll(EXIT_FAILURE)
  } finally {
    signals.dispose()
  }

  /** Undoes the steps in reverse: input, sensors, deploys, boards (they drain), cloud; then the folder. */
  async function stopAll (code: number): Promise<number> {
    stopping = true
    clearTimeout(deadline)
    clearInterval(backlogTimer)
    input?.close()
    if (input !== undefined) process.stdin.destroy()
    feed ??= await feedStart?.catch(() => undefined)
    await feed?.stop()
    await Promise.all([...deploys].map(async (d) => await d.stop('SIGINT', 5000)))
    const exits = await Promise.all(boards.map(async ({ b, child }) => [b.id, await child.stop('SIGTERM', 30_000)] as const))
    const cloudExit = await cloud?.stop('SIGTERM', 30_000)
    const bad = [...exits, ...(cloudExit === undefined ? [] : [['cloud', cloudExit] as const])].filter(([, e]) => e.code !== 0 && e.signal !== 'SIGTERM')
    say('demo', `stopped the boards and the cloud${feed === undefined ? '' : `; ${feed.published} readings were published`}`)
    for (const [who, e] of bad) say('demo', `${who} exited with ${e.code ?? e.signal ?? '?'}`)
    if (o.data === undefined) rmSync(root, { recursive: true, force: true })
    else say('demo', `everything is kept in ${root} (lambkin outbox --data ${path.join(root, 'boards', 'greenhouse', 'data')})`)
    return code
  }
}

async function addDevice (api: string, token: string, id: string): Promise<string> {
  const res = await fetch(`${api}/v1/devices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id, group: DEMO_GROUP })
  })
  const body = await res.json() as { secret?: string, error?: { code?: string, message?: string } }
  if (res.status !== 201 || body.secret === undefined) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `registering board ${id} failed: ${res.status} ${JSON.stringify(body)}`)
  return body.secret
}

/**
 * Deploys the examples, DEPLOYS_AT_ONCE at a time, each `lambkin deploy` shown line by line;
 * resolves with the names that failed. Starts none once `stopping()` (a deploy stopped by the
 * demo's stop exits 130, which is no reason to try again).
 */
async function deployAll (
  world: DemoWorld, env: Record<string, string>, say: (who: string, line: string) => void, running: Set<DemoChild>, stopping: () => boolean
): Promise<string[]> {
  const queue = [...DEPLOYED_EXAMPLES]
  const failed: string[] = []
  const worker = async (): Promise<void> => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const who = `deploy ${name}`
      for (let attempt = 1; attempt <= DEPLOY_TRIES; attempt++) {
        if (stopping()) return
        const child = new DemoChild(who, ['deploy', path.join(world.examplesDir, name), '--to', `group:${DEMO_GROUP}`], { env, onLine: (l) => say(who, l) })
        running.add(child)
        const exit = await child.exited
        running.delete(child)
        if (exit.code === 0 || stopping()) break
        if (exit.signal !== null || attempt === DEPLOY_TRIES) { failed.push(name); break }
        say(who, 'trying once more')
      }
    }
  }
  await Promise.all(Array.from({ length: DEPLOYS_AT_ONCE }, worker))
  return failed
}

/**
 * One line with each board's outbox backlog, read through the board itself (its local HTTP
 * port). With `draining`, resolves true once every board has caught up (and says so).
 */
async function showBacklog (world: DemoWorld, say: (who: string, line: string) => void, draining: boolean): Promise<boolean> {
  const counts = await Promise.all(world.boards.map(async (b) => {
    try {
      return [b.id, (await readThroughAgent(b.dataDir, 1, undefined)).stats.count] as const
    } catch {
      return [b.id, undefined] as const
    }
  }))
  const text = counts.map(([id, n]) => `${id} ${n ?? '?'}`).join(', ')
  const done = draining && counts.every(([, n]) => n !== undefined && n < CAUGHT_UP)
  say('demo', draining
    ? done ? `backlog drained: ${text} records left (new results keep coming)` : `backlog draining: ${text} records`
    : `backlog (the cloud is away): ${text} records in the boards' outboxes`)
  return done
}

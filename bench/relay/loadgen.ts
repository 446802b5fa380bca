// bench/relay's load generator, in a process of its own: `node loadgen.js <url>`. Publishes
// QoS 1 `{ i, value }` to bench/in/<i % KEYS> and counts the peer's QoS 1 replies on bench/out.
// Nine inputs in ten are above the threshold and get a reply; at most WINDOW replies are
// outstanding, so the broker's queue stays bounded whatever the peer's speed. First it probes
// until the peer answers (subscribed and running), then WARMUP untimed inputs, then MESSAGES
// timed ones. Prints "live", "timing" as the timed part starts, then one JSON line:
// { messages, seconds, perSecond, stalls, stalledMs } (inputs/s; stalls: timed waits of
// STALL_GAP_MS or more between two replies, and their total ms: time nothing came back, such as a
// reply held by Nagle's algorithm until a delayed ACK, about 40 ms on Linux, or a process of the
// bench not scheduled on a busy host). BENCH_RATE=<inputs/s> paces the inputs at that rate as
// well: every peer then sees the same offered load, so their CPU per message compares like with
// like (a peer's batching, and so its CPU per message, changes with its speed). The
// warm-up is paced from its own start and stops at its last input; the timed inputs are paced
// from the moment the warm-up's replies are in, so a peer slow to warm up does not leave a
// backlog that the timed part then sends in a burst (above BENCH_RATE).
import { performance } from 'node:perf_hooks'
import mqtt from 'mqtt'

export const THRESHOLD = 25
const KEYS = 8
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 40_000)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10_000)
const WINDOW = Number(process.env.BENCH_WINDOW ?? 500)
/** Inputs per second, or 0: as fast as the peer answers within WINDOW. */
const RATE = Number(process.env.BENCH_RATE ?? 0)
/** No reply for this long: the peer is stuck; the bench fails rather than wait for ever. */
const STALL_MS = 60_000
/** A wait between two timed replies this long or longer is counted as a stall (see the header). */
const STALL_GAP_MS = 30
const TOTAL = WARMUP + MESSAGES

const above = (i: number): boolean => i % 10 !== 0
/** Replies expected from inputs 0..n-1. */
const expected = (n: number): number => n - Math.ceil(n / 10)

const client = await mqtt.connectAsync(process.argv[2], { clientId: `bench-loadgen-${process.pid}` })
await client.subscribeAsync('bench/out', { qos: 1 })
let replies = 0
let probed = false
let wake: () => void = () => {}
client.on('message', (_topic, payload) => {
  const i = (JSON.parse(payload.toString()) as { i: number }).i
  if (i < 0) probed = true
  else replies++
  wake()
})
const send = (i: number): void => {
  client.publish(`bench/in/${((i % KEYS) + KEYS) % KEYS}`, JSON.stringify({ i, value: above(i) ? THRESHOLD + 5 : THRESHOLD - 5 }), { qos: 1 })
}

// Probe until the peer answers: it has subscribed and its function runs.
for (let p = 1; !probed; p++) {
  if (p > 240) throw new Error('the peer never answered a probe in 120 s')
  send(-p)
  await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 500) })
}
process.stdout.write('live\n')

let next = 0
let t0 = 0
let last = performance.now()
let stalls = 0
let stalledMs = 0
const warmupStart = performance.now()
/**
 * Inputs the pace allows so far (all of them without BENCH_RATE): the warm-up's at RATE from
 * its start, then, once timing has started at t0, WARMUP plus RATE from t0.
 */
const allowed = (): number => {
  if (RATE <= 0) return TOTAL
  const paced = (from: number): number => Math.floor((performance.now() - from) * RATE / 1000)
  return t0 === 0 ? Math.min(WARMUP, paced(warmupStart)) : WARMUP + paced(t0)
}
await new Promise<void>((resolve, reject) => {
  const stall = setInterval(() => { if (performance.now() - last > STALL_MS) reject(new Error(`no reply for ${STALL_MS / 1000} s after ${replies} replies`)) }, 1000)
  const fill = (): void => {
    const most = Math.min(TOTAL, allowed())
    while (next < most && expected(next) - replies < WINDOW) send(next++)
  }
  const pace = RATE > 0 ? setInterval(fill, 5) : undefined
  wake = () => {
    const now = performance.now()
    if (t0 !== 0 && now - last >= STALL_GAP_MS) { stalls++; stalledMs += now - last }
    last = now
    if (t0 === 0 && replies >= expected(WARMUP)) { t0 = performance.now(); process.stdout.write('timing\n') }
    if (replies >= expected(TOTAL)) { clearInterval(stall); clearInterval(pace); resolve(); return }
    fill()
  }
  wake()
})
const seconds = (performance.now() - t0) / 1000
await client.endAsync()
process.stdout.write(JSON.stringify({ messages: MESSAGES, seconds, perSecond: MESSAGES / seconds, stalls, stalledMs: Math.round(stalledMs) }) + '\n')
process.exit(0)

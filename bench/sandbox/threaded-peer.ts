// The floor of a sandbox per thread: BENCH_CONCURRENCY worker threads (one by default), each
// running raw QuickJS as quickjs-peer.ts does in-process, fed as the pool feeds its threads
// (calls spread over the threads, each thread's calls sent in one message per turn of the event
// loop, results back in one message per batch). What lambkin's pool costs above this is its
// own: budgets, checks, ctx, state, outcomes.
import { Worker } from 'node:worker_threads'

type Call = (e: unknown) => Promise<unknown>

const WORKER = new URL('./threaded-worker.js', import.meta.url)

interface Lane {
  worker: Worker
  out: string[]
  waiting: Array<(v: unknown) => void>
  sent: Array<Array<(v: unknown) => void>>
  queued: boolean
}

export async function threadedPeer (): Promise<{ make: (name: string, src: string) => Promise<Call>, close: () => Promise<void> }> {
  const threads = Math.max(1, Number(process.env.BENCH_CONCURRENCY ?? 1))
  const lanes: Lane[] = []
  const flush = (l: Lane): void => {
    l.queued = false
    l.sent.push(l.waiting)
    l.worker.postMessage(l.out)
    l.out = []
    l.waiting = []
  }
  return {
    make: async (_name, src) => {
      for (let i = 0; i < threads; i++) {
        const worker = new Worker(WORKER)
        const lane: Lane = { worker, out: [], waiting: [], sent: [], queued: false }
        await new Promise<void>((resolve) => {
          worker.once('message', () => resolve())
          worker.postMessage({ src })
        })
        worker.on('message', (back: string[]) => {
          const resolvers = lane.sent.shift() as Array<(v: unknown) => void>
          for (let k = 0; k < back.length; k++) resolvers[k](JSON.parse(back[k]))
        })
        lanes.push(lane)
      }
      let next = 0
      return (e) => new Promise((resolve) => {
        const l = lanes[next]
        next = (next + 1) % lanes.length
        l.out.push(JSON.stringify(e))
        l.waiting.push(resolve)
        if (!l.queued) {
          l.queued = true
          setImmediate(() => flush(l))
        }
      })
    },
    close: async () => { await Promise.all(lanes.map((l) => l.worker.terminate())) }
  }
}

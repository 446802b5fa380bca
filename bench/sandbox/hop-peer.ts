// The floor of any design that runs calls on another thread: each call's event goes out as
// JSON text in a batch (one message per turn of the event loop, as the pool sends them) and
// comes back in a batch that resolves each call's own promise. The worker only echoes: no
// sandbox, no budgets, no checks. What lambkin's pool costs above this is its own.
import { Worker } from 'node:worker_threads'

type Call = (e: unknown) => Promise<unknown>

const ECHO = 'require(\'node:worker_threads\').parentPort.on(\'message\', (batch) => require(\'node:worker_threads\').parentPort.postMessage(batch))'

export async function hopPeer (): Promise<{ make: (name: string, src: string) => Promise<Call>, close: () => Promise<void> }> {
  const worker = new Worker(ECHO, { eval: true })
  let out: string[] = []
  let waiting: Array<(v: unknown) => void> = []
  const sent: Array<Array<(v: unknown) => void>> = []
  let queued = false
  const flush = (): void => {
    queued = false
    sent.push(waiting)
    worker.postMessage(out)
    out = []
    waiting = []
  }
  worker.on('message', (back: string[]) => {
    const resolvers = sent.shift() as Array<(v: unknown) => void>
    for (let i = 0; i < back.length; i++) resolvers[i](JSON.parse(back[i]))
  })
  return {
    make: async () => (e) => new Promise((resolve) => {
      out.push(JSON.stringify(e))
      waiting.push(resolve)
      if (!queued) {
        queued = true
        setImmediate(flush)
      }
    }),
    close: async () => { await worker.terminate() }
  }
}

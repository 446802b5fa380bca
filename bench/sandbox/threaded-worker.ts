// A thread of threaded-peer.ts: raw QuickJS (quickjs-peer.ts) behind a port. It gets the
// handler's source once, then batches of event JSON, and answers each batch with its results'
// JSON in one message. No budgets, no checks, no state: the floor of a thread per sandbox.
import { parentPort } from 'node:worker_threads'
import { quickjsJsonCall } from './quickjs-peer.js'

const port = parentPort as NonNullable<typeof parentPort>
let call: ((json: string) => string) | undefined

port.on('message', (m: { src: string } | string[]) => {
  if (!Array.isArray(m)) {
    void quickjsJsonCall(m.src).then((c) => { call = c; port.postMessage('ready') })
    return
  }
  const run = call as (json: string) => string
  const out = new Array<string>(m.length)
  for (let i = 0; i < m.length; i++) out[i] = run(m[i])
  port.postMessage(out)
})

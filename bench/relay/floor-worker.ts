// The floor relay's sandbox thread: takes each event-loop turn's events (their JSON texts) in
// one message and answers their results in one message, in order (floor-sandbox.ts).
import { parentPort } from 'node:worker_threads'
import { makeSandbox } from './floor-sandbox.js'

const port = parentPort
if (port === null) throw new Error('floor-worker.js runs as a worker thread of floor-relay.js')
const run = await makeSandbox()
port.on('message', (events: string[]) => { port.postMessage(events.map(run)) })
port.postMessage('ready')

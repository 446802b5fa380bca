// Remote invoke [W7]: `down/invoke { id, fn, event, timeoutMs }` runs the function through the
// invoker as any invocation (event.source "invoke", results in the outbox as usual) and is
// answered on `up/invoke-result` with the same id. An invocation still running at timeoutMs
// is answered LAMBKIN_INVOKE_TIMEOUT (it keeps running and its result is still recorded).
import { ErrorCodes, errorMessage } from '../../src/errors.js'
import type { InvokeFrame, InvokeResultFrame } from '../../src/wire/index.js'
import type { Invoker } from './invoker.js'
import { ageClock } from '../../src/clock.js'
import type { Clock } from '../../src/clock.js'

export interface RemoteInvokeOptions {
  invoker: Invoker
  clock: Clock
  /** Sends the answer (the cloud link's sendInvokeResult); false when offline. */
  send: (f: InvokeResultFrame) => boolean
  log: (line: string) => void
}

/** Runs one `down/invoke` and answers it; never rejects. */
export async function remoteInvoke (o: RemoteInvokeOptions, f: InvokeFrame): Promise<InvokeResultFrame> {
  const start = o.clock.now()
  // durationMs counts on the monotonic clock: a wall clock stepped back by NTP mid-invoke would
  // make it negative, and the cloud refuses such an answer [W8].
  const elapsed = ageClock(o.clock).monotonic
  const began = elapsed()
  const base = f.event !== null && typeof f.event === 'object' && !Array.isArray(f.event) ? f.event as Record<string, unknown> : { payload: f.event }
  const event = { ...base, source: 'invoke', time: start }
  let timer: unknown
  const timedOut = new Promise<undefined>((resolve) => { timer = o.clock.setTimeout(() => resolve(undefined), f.timeoutMs) })
  let answer: InvokeResultFrame
  try {
    const rec = await Promise.race([o.invoker.run(f.fn, event), timedOut])
    if (rec === undefined) {
      answer = { id: f.id, fn: f.fn, ok: false, error: { code: ErrorCodes.INVOKE_TIMEOUT, message: `${f.fn} did not finish within ${f.timeoutMs} ms` }, durationMs: elapsed() - began }
    } else if (rec.ok) {
      answer = {
        id: f.id,
        fn: f.fn,
        ok: true,
        result: rec.result ?? null,
        durationMs: rec.durationMs,
        ...(rec.version === undefined ? {} : { version: rec.version })
      }
    } else {
      answer = { id: f.id, fn: f.fn, ok: false, error: { code: rec.code ?? ErrorCodes.FUNCTION_ERROR, message: rec.message ?? '' }, durationMs: rec.durationMs, ...(rec.version === undefined ? {} : { version: rec.version }) }
    }
  } catch (err) {
    // The invocation ran but its results could not be stored (the store's code).
    answer = {
      id: f.id,
      fn: f.fn,
      ok: false,
      error: { code: (err as { code?: string }).code ?? ErrorCodes.STORE_ERROR, message: errorMessage(err) },
      durationMs: elapsed() - began
    }
  } finally {
    o.clock.clearTimeout(timer)
  }
  if (!o.send(answer)) o.log(`remote invoke ${f.id} of ${f.fn}: the cloud link went down before the answer could be sent`)
  return answer
}

// A device's function logs as a live tail: the newest lines first loaded, then each new log
// record as the live stream reports the device's high-water moving. Pausing keeps the view
// still (lines still arrive and show on resume).
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, enc } from '../api.js'
import { when } from '../format.js'

interface LogRec { seq: number, fn?: string, time: number, data: { lines?: Array<{ level?: string, time?: number, msg?: string }> } | null }
interface Line { key: string, text: string, level: string }

/** Lines kept on the page. */
const KEEP = 500

function linesOf (r: LogRec): Line[] {
  return (r.data?.lines ?? []).map((l, i) => ({ key: `${r.seq}.${i}`, level: l.level ?? 'info', text: `${when(l.time ?? r.time)} [${r.fn ?? '-'}] ${l.level ?? 'info'} ${l.msg ?? ''}` }))
}

export function LogTail ({ id, highWater }: { id: string, highWater: number }) {
  const [lines, setLines] = useState<Line[]>([])
  const [paused, setPaused] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const after = useRef<number | undefined>(undefined)
  const busy = useRef(false)
  /** Bumped by each high-water move; a pull that ends behind it pulls again. */
  const wanted = useRef(0)
  const box = useRef<HTMLOListElement>(null)

  const pull = async (): Promise<void> => {
    if (busy.current) return
    busy.current = true
    try {
      for (let seen = -1; seen !== wanted.current;) {
        seen = wanted.current
        const first = after.current === undefined
        const path = first ? `v1/devices/${enc(id)}/records?kind=log&limit=100` : `v1/devices/${enc(id)}/records?kind=log&after=${after.current ?? 0}&limit=1000`
        const { records } = await api<{ records: LogRec[] }>(path)
        const recs = first ? records.reverse() : records
        if (recs.length > 0) after.current = recs[recs.length - 1].seq
        else if (first) after.current = 0
        if (recs.length > 0) setLines((old) => [...old, ...recs.flatMap(linesOf)].slice(-KEEP))
        setError(null)
      }
    } catch (e) {
      setError((e as Error).message)
    } finally {
      busy.current = false
    }
  }

  useEffect(() => { after.current = undefined; setLines([]) }, [id])
  useEffect(() => { wanted.current++; void pull() }, [id, highWater])
  useEffect(() => {
    const el = box.current
    if (el !== null && !paused) el.scrollTop = el.scrollHeight
  }, [lines, paused])

  return (
    <section aria-labelledby='logs-h' class='logs'>
      <div class='logs-head'>
        <h2 id='logs-h'>Logs (live)</h2>
        <button type='button' aria-pressed={paused} onClick={() => setPaused(!paused)}>{paused ? 'Resume scrolling' : 'Pause scrolling'}</button>
      </div>
      {error !== null && <p class='error'>{error}</p>}
      <ol class='log-lines' ref={box} tabIndex={0} aria-label={`log lines of ${id}, newest last`}>
        {lines.length === 0 ? <li class='empty'>No log lines yet (ctx.log in a function writes them).</li> : lines.map((l) => <li key={l.key} class={`log-${l.level}`}>{l.text}</li>)}
      </ol>
    </section>
  )
}

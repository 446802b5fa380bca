// A time-series chart (uPlot, drawn on a canvas): each line has a label in the legend and its
// own dash pattern, so the lines are told apart without colour; the same figures are given as
// text beside the chart (its latest values), for screen readers and copying.
import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export interface Line { label: string, values: Array<number | null>, dash?: number[] }

/** Colours that stay apart for the common colour-vision deficiencies (Okabe-Ito). */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7']
const DASHES = [[], [8, 4], [2, 3], [12, 3, 2, 3]]

export interface ChartProps {
  title: string
  /** x values, ms since the epoch. */
  t: number[]
  lines: Line[]
  unit: string
  height?: number
}

function latest (values: Array<number | null>): string {
  for (let i = values.length - 1; i >= 0; i--) { const v = values[i]; if (v !== null) return Number.isInteger(v) ? String(v) : v.toFixed(2) }
  return '-'
}

export function Chart ({ title, t, lines, unit, height = 150 }: ChartProps) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const data: uPlot.AlignedData = [t.map((x) => x / 1000), ...lines.map((l) => l.values)]
  const shape = lines.map((l) => l.label).join('|')

  useEffect(() => {
    const el = box.current
    if (el === null) return
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{ stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' }, ticks: { stroke: 'rgba(128,128,128,0.4)' } }, { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' }, ticks: { stroke: 'rgba(128,128,128,0.4)' }, size: 56 }],
      series: [{}, ...lines.map((l, i) => ({ label: `${l.label} (${unit})`, stroke: COLOURS[i % COLOURS.length], width: 2, dash: l.dash ?? DASHES[i % DASHES.length], spanGaps: false, points: { show: true, size: 4 } }))]
    }
    const u = plot.current = new uPlot(opts, data, el)
    const ro = new ResizeObserver(() => { u.setSize({ width: Math.max(200, el.clientWidth), height }) })
    ro.observe(el)
    return () => { ro.disconnect(); u.destroy(); plot.current = null }
  }, [shape, height, unit])

  useEffect(() => { plot.current?.setData(data) })

  return (
    <figure class='chart'>
      <figcaption>
        <span class='chart-title'>{title}</span>
        <span class='chart-latest'>latest: {lines.map((l) => `${l.label} ${latest(l.values)} ${unit}`).join(', ')}</span>
      </figcaption>
      <div ref={box} class='chart-canvas' role='img' aria-label={`${title}: ${t.length} points; latest ${lines.map((l) => `${l.label} ${latest(l.values)} ${unit}`).join(', ')}`} />
    </figure>
  )
}

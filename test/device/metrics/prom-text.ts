// A strict reader of Prometheus text format 0.0.4 for tests, written apart from the
// formatter so a shared mistake in escaping cannot hide. It throws on anything off-format.

export interface Sample { name: string, labels: Record<string, string>, value: number }
export interface Family { name: string, type: string, help: string, samples: Sample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/

function unescapeHelp (s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => {
    if (c === '\\') return '\\'
    if (c === 'n') return '\n'
    return `\\${c}`
  })
}

function parseValue (s: string, line: string): number {
  if (s === '+Inf') return Infinity
  if (s === '-Inf') return -Infinity
  if (s === 'NaN') return NaN
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new Error(`bad value "${s}" in: ${line}`)
  return Number(s)
}

function parseSample (line: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)
  if (m === null) throw new Error(`bad sample line: ${line}`)
  const name = m[1] as string
  let i = name.length
  const labels: Record<string, string> = {}
  if (line[i] === '{') {
    i++
    while (line[i] !== '}') {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(i))
      if (lm === null || !LABEL.test(lm[1] as string)) throw new Error(`bad label at ${i} in: ${line}`)
      i += lm[0].length
      let v = ''
      for (;;) {
        const c = line[i]
        if (c === undefined) throw new Error(`unterminated label value in: ${line}`)
        if (c === '"') break
        if (c === '\\') {
          const e = line[i + 1]
          if (e === '\\') v += '\\'
          else if (e === '"') v += '"'
          else if (e === 'n') v += '\n'
          else throw new Error(`bad escape \\${String(e)} in: ${line}`)
          i += 2
        } else {
          v += c
          i++
        }
      }
      i++
      const key = lm[1] as string
      if (key in labels) throw new Error(`label ${key} repeated in: ${line}`)
      labels[key] = v
      if (line[i] === ',') i++
      else if (line[i] !== '}') throw new Error(`expected , or } at ${i} in: ${line}`)
    }
    i++
  }
  if (line[i] !== ' ') throw new Error(`expected a space before the value in: ${line}`)
  const rest = line.slice(i + 1).split(' ')
  if (rest.length < 1 || rest.length > 2) throw new Error(`bad value part in: ${line}`)
  return { name, labels, value: parseValue(rest[0] as string, line) }
}

function familyOf (sampleName: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length)
      if (families.get(base)?.type === 'histogram') return base
    }
  }
  return sampleName
}

/** Parses text and checks the rules a scraper relies on, including histogram consistency. */
export function parsePrometheus (text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('text must end with a line feed')
  const families = new Map<string, Family>()
  const finished = new Set<string>()
  let current: string | undefined
  for (const line of text.split('\n').slice(0, -1)) {
    if (line === '') continue
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line)
      if (m === null) continue
      const [, kind, name, rest] = m as unknown as [string, string, string, string]
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`)
      if (finished.has(name) || (current !== undefined && current !== name && families.has(name))) throw new Error(`family ${name} is not contiguous`)
      if (current !== undefined && current !== name) finished.add(current)
      current = name
      const fam = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] }
      if (fam.samples.length > 0) throw new Error(`${kind} for ${name} after its samples`)
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad type in: ${line}`)
        fam.type = rest
      } else {
        fam.help = unescapeHelp(rest)
      }
      families.set(name, fam)
      continue
    }
    const s = parseSample(line)
    const fname = familyOf(s.name, families)
    if (finished.has(fname)) throw new Error(`family ${fname} is not contiguous`)
    if (current !== fname) {
      if (current !== undefined) finished.add(current)
      current = fname
    }
    const fam = families.get(fname) ?? { name: fname, type: 'untyped', help: '', samples: [] }
    fam.samples.push(s)
    families.set(fname, fam)
  }
  for (const fam of families.values()) if (fam.type === 'histogram') checkHistogram(fam)
  return families
}

function checkHistogram (fam: Family): void {
  const groups = new Map<string, Sample[]>()
  for (const s of fam.samples) {
    const { le: _le, ...rest } = s.labels
    const key = JSON.stringify(rest)
    groups.set(key, [...(groups.get(key) ?? []), s])
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${fam.name}_bucket`)
    const count = samples.find((s) => s.name === `${fam.name}_count`)
    const sum = samples.find((s) => s.name === `${fam.name}_sum`)
    if (count === undefined || sum === undefined) throw new Error(`${fam.name}${key} lacks _sum or _count`)
    let prevLe = -Infinity
    let prev = 0
    for (const b of buckets) {
      const le = parseValue(b.labels.le ?? 'x', 'le')
      if (le <= prevLe) throw new Error(`${fam.name}${key} buckets not in increasing le order`)
      if (b.value < prev) throw new Error(`${fam.name}${key} buckets are not cumulative`)
      prevLe = le
      prev = b.value
    }
    if (prevLe !== Infinity) throw new Error(`${fam.name}${key} has no +Inf bucket`)
    if (prev !== count.value) throw new Error(`${fam.name}${key} +Inf bucket ${prev} differs from _count ${count.value}`)
  }
}

/** The value of the one sample with exactly these labels (undefined when absent). */
export function valueOf (fams: Map<string, Family>, sampleName: string, labels: Record<string, string>): number | undefined {
  for (const fam of fams.values()) {
    for (const s of fam.samples) {
      if (s.name !== sampleName) continue
      const keys = Object.keys(s.labels)
      if (keys.length === Object.keys(labels).length && keys.every((k) => s.labels[k] === labels[k])) return s.value
    }
  }
  return undefined
}

// MQTT topic filters: validity and matching (`+` one level, `#` the rest; `$` topics are not
// matched by a leading wildcard, as the MQTT spec says).

export function isValidTopicFilter (filter: string): boolean {
  if (typeof filter !== 'string' || filter.length === 0 || Buffer.byteLength(filter) > 65535 || filter.includes('\u0000')) return false
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return false
    if (l.includes('+') && l !== '+') return false
  }
  return true
}

export function isValidTopicName (topic: string): boolean {
  return typeof topic === 'string' && topic.length > 0 && !topic.includes('+') && !topic.includes('#') && !topic.includes('\u0000')
}

export function topicMatches (filter: string, topic: string): boolean {
  const f = filter.split('/')
  const t = topic.split('/')
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}

// What the demo prints once everything runs: where to look and what to try, each line a command
// that works as printed in another terminal (the operator commands find the cloud through the
// exported variables; README, "lambkin demo").
import path from 'node:path'

export interface GuideFacts {
  /** The `lambkin` entry point this demo runs (`node <it>` when lambkin is not on the PATH). */
  bin: string
  api: string
  tokenFile: string
  keyFile: string
  group: string
  /** Board id -> its embedded broker's port. */
  brokerPorts: ReadonlyMap<string, number>
  examplesDir: string
  brokenDir: string
  /** A board's local functions folder, watched for edits. */
  localFunctions: string
  /** True when the demo reads "cloud" lines on its standard input. */
  cloudToggle: boolean
}

const q = (s: string): string => /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`

/** The guide, as lines of text. */
export function guideText (f: GuideFacts): string {
  const [first, port] = [...f.brokerPorts.entries()][0] ?? ['greenhouse', 1883]
  const ports = [...f.brokerPorts.entries()].map(([id, p]) => `${id} ${p}`).join(', ')
  const rows: Array<[string, string]> = [
    ['the dashboard', `${f.api}/  (sign in with the token: cat ${q(f.tokenFile)})`],
    ['the fleet', 'lambkin status    (and lambkin rollouts)'],
    ['watch alarms', `mosquitto_sub -p ${port} -t 'alarms/#' -v    (boards' brokers: ${ports})`],
    ['send a reading', `mosquitto_pub -p ${port} -t sensors/${first}/temperature -m '{"value": 80}'`],
    ['ask a board', `lambkin invoke --device ${first} hello --event '{"name":"you"}'`],
    ['what it did', `lambkin results ${first} threshold-alarm    (lambkin logs ${first} -f follows the logs)`],
    ['edit, deploy', `edit ${q(path.join(f.examplesDir, 'threshold-alarm', 'index.js'))}, then lambkin deploy ${q(path.join(f.examplesDir, 'threshold-alarm'))} --to group:${f.group}`],
    ['a bad version', `lambkin deploy ${q(f.brokenDir)} --to group:${f.group}    (it throws on every reading: each board rolls it back by itself within seconds)`],
    ['a local edit', `edit ${q(path.join(f.localFunctions, 'hello', 'index.js'))}: that board reloads it by itself, no deploy`],
    ['offline', f.cloudToggle
      ? 'type "cloud" and Enter here: the cloud stops and the boards buffer; again to start it and watch their backlog drain'
      : 'the cloud can be stopped and started from this terminal when the demo reads its input (run it in a terminal)']
  ]
  const width = Math.max(...rows.map(([a]) => a.length)) + 2
  return [
    '',
    'Try it, in another terminal:',
    `  alias lambkin=${q(`node ${f.bin}`)}`,
    `  export LAMBKIN_API=${f.api} LAMBKIN_TOKEN="$(cat ${q(f.tokenFile)})" LAMBKIN_KEY=${q(f.keyFile)}`,
    '',
    ...rows.map(([a, b]) => `  ${a.padEnd(width)}${b}`),
    '',
    'Ctrl-C stops everything.',
    ''
  ].join('\n')
}

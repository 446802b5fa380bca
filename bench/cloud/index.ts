// bench/cloud: the cloud side against aedes' own QoS 1 throughput of the same bytes (ingest),
// a device's offline backlog draining (drain), a fleet of 1,000 devices heartbeating
// (fleet), and one function deployed to 100 real agents (deploy.ts, also runnable alone). Each case in a fresh process; the last line is the summary.
// `index.js drain` runs the drain alone, against its peer: a raw LevelDB read of the same records.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CASES = fileURLToPath(new URL('./cases.js', import.meta.url))
const DEPLOY = fileURLToPath(new URL('./deploy.js', import.meta.url))
const run = (...args: string[]): Record<string, number> => JSON.parse(execFileSync(process.execPath, ['--expose-gc', CASES, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop() as string) as Record<string, number>
const f = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** The drain case alone (`index.js drain`), or every case. */
const only = process.argv[2]

/** Drains a 100,000-record backlog three times; prints its line and returns the summary's part. */
function drainCase (): string {
  const drains = [run('drain'), run('drain'), run('drain')]
  const drain = median(drains.map((d) => d.perSecond))
  const raw = median(drains.map((d) => d.rawPerSecond))
  console.log(`drain, 100,000 records buffered offline, reconnect to last ack, median of 3: ${f(drain)} records/s (${f(median(drains.map((d) => d.seconds)), 2)} s, device CPU ${f(median(drains.map((d) => d.deviceCpuSeconds)), 2)} s, cloud CPU ${f(median(drains.map((d) => d.cloudCpuSeconds)), 2)} s, ${f(median(drains.map((d) => d.embedded)))} records sent embedded); a raw LevelDB read of the same records ${f(raw)} records/s, drain ${f(drain / raw, 2)}x of it; load average ${f(median(drains.map((d) => d.loadAverage)), 1)}`)
  return `drain ${f(drain)} records/s (target >= 100,000; ${f(drain / raw, 2)}x a raw LevelDB read)`
}

if (only === 'drain') {
  console.log(`cloud: ${drainCase()}`)
  process.exit(0)
}

// Cloud and peer alternate so drift on a shared machine hits both alike.
const cloud: number[] = []
const aedes: number[] = []
for (let i = 0; i < 3; i++) {
  cloud.push(run('ingest', 'cloud').perSecond)
  aedes.push(run('ingest', 'aedes').perSecond)
}
const ingest = median(cloud) / median(aedes)
console.log(`ingest, 20 devices, batches of 500 records (~100 B each), 2 in flight per device, median of 3: cloud ${f(median(cloud))} records/s stored and acked, aedes QoS 1 of the same bytes ${f(median(aedes))} records/s, ${f(ingest, 2)}x`)
const drain = drainCase()
const fleet = run('fleet')
console.log(`fleet, ${f(fleet.devices)} devices connected (${f(fleet.connectedOnCloud)} seen by the cloud) heartbeating every 1 s for 10 s: cloud RSS ${f(fleet.rssBeforeMiB, 1)} -> ${f(fleet.rssAfterMiB, 1)} MiB, ${f(fleet.kiBPerDevice, 1)} KiB per device; ${f(fleet.cpuUsPerHeartbeat, 1)} us CPU per heartbeat (${f(fleet.heartbeats)} heartbeats)`)
const deploy = JSON.parse(execFileSync(process.execPath, [DEPLOY, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop() as string) as Record<string, number>
console.log(`deploy, one function to ${f(deploy.devices)} real agents (20 per process), upload to all applied, median of 3: ${f(deploy.seconds, 3)} s (target < 2 s); the lambkin deploy command end to end ${f(deploy.commandSeconds, 2)} s; per device on the wire ${f(deploy.bytesPerDevice)} B (down/desired ${f(deploy['down/desired'])}, down/bundle ${f(deploy['down/bundle'])}, up/fetch ${f(deploy['up/fetch'])}, up/reported ${f(deploy['up/reported'])}; bundle ${f(deploy.bundleBytes)} B); load average ${f(deploy.loadAverage, 1)} on ${f(deploy.cores)} cores`)
console.log(`cloud: ingest ${f(ingest, 2)}x aedes QoS 1 (target >= 0.5), ${drain}, ${f(fleet.kiBPerDevice, 1)} KiB and ${f(fleet.cpuUsPerHeartbeat, 1)} us CPU per heartbeating device, deploy to ${f(deploy.devices)} agents in ${f(deploy.seconds, 2)} s (target < 2 s) with ${f(deploy.bytesPerDevice)} B per device`)

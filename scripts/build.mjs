#!/usr/bin/env node
// `npm run build`, `npm start` and `npm test` build through here: `tsc -b` with a line saying
// what is happening and one per project as it compiles, so a fresh clone's first build (about a
// minute on a quiet 2-core machine, up to three on a busy one, more on a Pi) is never silent; a
// project that takes long gets a "still compiling <project>" line every 15 s (LAMBKIN_BUILD_STILL_MS, in
// ms: the build-progress test sets it). Arguments are the projects to build
// (default: all of them; `npm start` asks for cli only). Exits with tsc's status; tsc's own
// errors pass through unchanged. After tsc, scripts/bundle.mjs builds dist/bundle/ (what
// dist/cli/bin.js runs) from what tsc wrote.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'
import { bundle } from './bundle.mjs'

const require = createRequire(import.meta.url)
const tsc = require.resolve('typescript/bin/tsc')
const projects = process.argv.slice(2)
/** With nothing printed for this long (ms), a line says the build is still going. */
const STILL_MS = Number(process.env.LAMBKIN_BUILD_STILL_MS ?? 15_000)
let lastOut = Date.now()
const out = (s) => { lastOut = Date.now(); process.stderr.write(s) }
const started = Date.now()
const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`
// The status lines of --verbose: "5:01:33 AM - Building project '/x/src/tsconfig.json'...".
const STATUS = /^(?:\[[^\]]*\]|\d{1,2}:\d{2}:\d{2}(?:\s?[AP]M)?) - (.*)$/
const plain = (s) => s.replace(/\x1b\[[0-9;]*m/g, '')
const nameOf = (file) => {
  const dir = path.dirname(path.relative(process.cwd(), path.resolve(file)))
  return dir === '' || dir === '.' ? 'root' : dir
}

out(`building lambkin${projects.length > 0 ? ` (${projects.join(', ')})` : ''} with tsc -b: a first build takes one to three minutes, later ones only what changed…\n`)
let doing = 'starting tsc'
const still = setInterval(() => {
  if (Date.now() - lastOut >= STILL_MS) out(`  still ${doing}, ${seconds()} so far\n`)
}, Math.min(1000, Math.max(STILL_MS, 50)))
const child = spawn(process.execPath, [tsc, '-b', '--verbose', ...projects], { stdio: ['ignore', 'pipe', 'inherit'] })
const all = []
let listing = false
let built = 0
let pending = ''
const line = (raw) => {
  const text = plain(raw)
  if (listing) {
    const m = /^\s+\* (.+)$/.exec(text)
    // The root tsconfig.json holds no files of its own; it is not a step worth counting.
    if (m !== null) { if (nameOf(m[1]) !== 'root') all.push(nameOf(m[1])); return }
    listing = false
  }
  const s = STATUS.exec(text)
  if (s === null) {
    if (text.trim() !== '') process.stdout.write(raw + '\n')
    return
  }
  if (s[1].startsWith('Projects in this build')) { listing = true; return }
  const b = /^Building project '(.+)'\.\.\.$/.exec(s[1])
  if (b !== null && nameOf(b[1]) !== 'root') {
    built++
    const name = nameOf(b[1])
    doing = `compiling ${name}`
    out(`  compiling ${name} (${all.indexOf(name) + 1}/${all.length}), ${seconds()} so far\n`)
  }
}
child.stdout.setEncoding('utf8').on('data', (chunk) => {
  pending += chunk
  const lines = pending.split('\n')
  pending = lines.pop() ?? ''
  for (const l of lines) line(l.replace(/\r$/, ''))
})
child.on('close', async (code, signal) => {
  clearInterval(still)
  if (pending !== '') line(pending)
  if (code !== 0) {
    out(`the build failed (tsc exited ${signal ?? code}): see the errors above\n`)
    process.exitCode = code ?? 1
    return
  }
  try {
    await bundle()
  } catch (err) {
    out(`the bundle failed (scripts/bundle.mjs): ${err.message}\n`)
    process.exitCode = 1
    return
  }
  out(built === 0 ? 'lambkin is built: nothing changed\n' : `lambkin built in ${seconds()}\n`)
})

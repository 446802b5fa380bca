// The demo's child processes: `lambkin cloud`, `lambkin device` and `lambkin deploy`, each the
// real command run by this same Node and bin, its output passed on line by line under its name.
// Each runs in its own process group, so a Ctrl-C in the terminal reaches the demo alone and
// the demo stops them in order (boards drain, then the cloud); a demo that ends any other way
// still kills what it started (process 'exit').
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** This package's `lambkin` entry point, from the built tree. */
export const LAMBKIN_BIN = fileURLToPath(new URL('../bin.js', import.meta.url))

export interface ChildExit { code: number | null, signal: NodeJS.Signals | null }

export interface DemoChildOptions {
  /** Added to the demo's own environment. */
  env?: Record<string, string>
  /** Every line the child writes (stdout and stderr alike), without its newline. */
  onLine: (line: string, stream: 'stdout' | 'stderr') => void
}

/** Lines kept from a child's start for line(): its ready line comes among the first few. */
const EARLY_LINES = 200

const live = new Set<ChildProcess>()
let hooked = false

/** One `lambkin` child process. */
export class DemoChild {
  readonly name: string
  readonly exited: Promise<ChildExit>
  readonly #child: ChildProcess
  readonly #waiters = new Set<(line: string) => void>()
  /** The first lines printed (ready lines and their neighbours), for line() called after they came. */
  readonly #early: string[] = []
  #ended = false

  constructor (name: string, args: string[], o: DemoChildOptions) {
    this.name = name
    if (!hooked) {
      hooked = true
      process.on('exit', () => { for (const c of live) c.kill('SIGKILL') })
    }
    const child = this.#child = spawn(process.execPath, [LAMBKIN_BIN, ...args], {
      env: { ...process.env, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    live.add(child)
    for (const stream of ['stdout', 'stderr'] as const) {
      let pending = ''
      child[stream]?.setEncoding('utf8').on('data', (chunk: string) => {
        pending += chunk
        const lines = pending.split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) {
          if (this.#early.length < EARLY_LINES) this.#early.push(line)
          o.onLine(line, stream)
          for (const w of this.#waiters) w(line)
        }
      })
    }
    this.exited = new Promise((resolve) => {
      child.on('error', () => {})
      child.on('close', (code, signal) => {
        this.#ended = true
        live.delete(child)
        for (const w of this.#waiters) w('')
        resolve({ code, signal })
      })
    })
  }

  get pid (): number | undefined { return this.#child.pid }
  get running (): boolean { return !this.#ended }

  /**
   * The first line matching `re` among its first EARLY_LINES lines or from now on; rejects when
   * the child ends first or after timeoutMs.
   */
  line (re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      for (const l of this.#early) {
        const m = l.match(re)
        if (m !== null) { resolve(m); return }
      }
      const done = (): void => { clearTimeout(timer); this.#waiters.delete(check) }
      const check = (line: string): void => {
        const m = line.match(re)
        if (m !== null) { done(); resolve(m); return }
        if (this.#ended) { done(); reject(new Error(`${this.name} exited before printing ${String(re)}`)) }
      }
      const timer = setTimeout(() => { done(); reject(new Error(`${this.name} did not print ${String(re)} within ${timeoutMs / 1000} s`)) }, timeoutMs)
      if (this.#ended) { done(); reject(new Error(`${this.name} is not running`)); return }
      this.#waiters.add(check)
    })
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `timeoutMs`. */
  async stop (signal: NodeJS.Signals, timeoutMs: number): Promise<ChildExit> {
    if (!this.#ended) this.#child.kill(signal)
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  /** Kills it at once (a second Ctrl-C). */
  kill (): void {
    if (!this.#ended) this.#child.kill('SIGKILL')
  }
}

// Scope: what a composition root started, as a stack of undo steps run in reverse by close()
// (like quickjs-emscripten's Scope). Agent.create and Cloud.create both start through one, so
// both close by the same rule: each failing undo is logged and the rest still run; close()
// reports them all at the end.
import { errorMessage } from './errors.js'

/** How to take back what a start step did; may be async. */
export type Undo = () => unknown

/** A close that did not go cleanly: the step names, and one error per failed undo. */
export class CloseErrors extends AggregateError {
  readonly steps: readonly string[]
  constructor (failures: ReadonlyArray<{ step: string, error: unknown }>) {
    super(failures.map((f) => f.error), `closing failed in ${failures.map((f) => f.step).join(', ')}`)
    this.name = 'CloseErrors'
    this.steps = failures.map((f) => f.step)
  }
}

export class Scope {
  readonly #undos: Array<{ step: string, undo: Undo }> = []
  readonly #log: (line: string) => void
  #closing: Promise<CloseErrors | undefined> | undefined

  /** `log` hears one line per undo that fails (`while closing <step>: <message>`). */
  constructor (log: (line: string) => void) {
    this.#log = log
  }

  /**
   * Runs start step `name` and keeps the undo it returns (undefined: nothing to undo). A step
   * that throws has undone its own part; the caller then closes the scope.
   */
  async step (name: string, start: () => Promise<Undo | undefined> | Undo | undefined): Promise<void> {
    const undo = await start()
    if (undo !== undefined) this.defer(name, undo)
  }

  /** Keeps `undo` for close(), as part of step `name`. */
  defer (name: string, undo: Undo): void {
    this.#undos.push({ step: name, undo })
  }

  /** The names of the steps with an undo, in start order. */
  get steps (): string[] { return this.#undos.map((u) => u.step) }

  /**
   * Runs the undos last first, each once. One that throws or rejects is logged and the rest
   * still run; resolves with all of them as a CloseErrors (undefined when every undo went
   * well). Never rejects; a second call gets the first one's answer.
   */
  close (): Promise<CloseErrors | undefined> {
    this.#closing ??= (async () => {
      const failures: Array<{ step: string, error: unknown }> = []
      for (const { step, undo } of this.#undos.splice(0).reverse()) {
        try {
          await undo()
        } catch (error) {
          failures.push({ step, error })
          this.#log(`while closing ${step}: ${errorMessage(error)}`)
        }
      }
      return failures.length === 0 ? undefined : new CloseErrors(failures)
    })()
    return this.#closing
  }
}

// The per-invocation call into the prelude without quickjs-emscripten's per-value wrappers:
// one malloc holds every string argument and the argv array, and only the result becomes a
// handle. Measured in-thread, a 7-argument call costs 2.1 us through the public API, 1.0 us so.
// Strings of LONG_STRING characters or more cross as UTF-8 written by V8's own encoder
// straight into a cached view of the wasm memory, and a result is read in place (one-byte
// strings, see STRING_CHARS) or by V8's decoder: emscripten's lengthBytesUTF8, stringToUTF8
// and UTF8ToString walk a string a character at a time in JS, about 6 ns a character.
// Measured in-thread: a 237-character event and a 36-character invocation id cost 1.75 us to
// write that way and 0.26 us so; a 300-character result 0.6 us to read that way, 0.09 us in
// place. Below LONG_STRING the fixed cost of the native call is the larger one, and
// emscripten's loops stay.
// It reaches into quickjs-emscripten-core 0.32 internals, so FastCall.of() checks their shape
// and answers undefined when they differ; callers then use the public API.
import type { QuickJSContext, QuickJSHandle, SuccessOrFail } from 'quickjs-emscripten'

/** Characters from which a string argument is written by V8's encoder (see above). */
const LONG_STRING = 32

/**
 * Buffer's own UTF-8 methods, which toString('utf8', ...) and write(..., 'utf8') call after
 * checking their arguments (in Node since its first releases, though not in its typings):
 * called straight, a trivial call's two strings skip about 0.1 us of checks. The offsets
 * passed are always within the view, as the public methods would require.
 */
interface Utf8Buffer {
  utf8Slice?: (start: number, end: number) => string
  utf8Write?: (s: string, offset: number, length: number) => number
  latin1Slice?: (start: number, end: number) => string
}
const proto = Buffer.prototype as unknown as Utf8Buffer
const DIRECT_UTF8 = typeof proto.utf8Slice === 'function' && typeof proto.utf8Write === 'function'
const HAS_LATIN1 = typeof proto.latin1Slice === 'function'

/**
 * Where QuickJS keeps a string (quickjs.c, JSValue and JSString in this 32-bit build): a value
 * is 8 bytes, the pointer then the tag; a string's second word is its length with the top bit
 * set for 16-bit characters, and its characters start at byte 16, one byte each (Latin-1)
 * otherwise. A result string of one-byte characters is read there directly, without
 * QTS_GetString's UTF-8 copy (a malloc, an encoding pass and a free) and the crossings around
 * it: 0.05-0.1 us for a trivial call's result, 0.3 for 300 characters. Checked on a probe
 * string when a FastCall is made (see of()); when the layout differs, the copy is used.
 */
const STRING_CHARS = 16
const PROBE = 'lambkin-probe-\u00e9'
/**
 * The probe's answer per build, keyed by its FFI class's prototype (one per quickjs-emscripten
 * variant in a thread, shared by all its instances): the string tag, undefined when strings
 * are not read in place.
 */
const PROBED = new WeakMap<object, { tag: number | undefined }>()
const OUT_OF_MEMORY = Symbol('out of memory')
const readUtf8 = (heap: Buffer, start: number, end: number): string =>
  DIRECT_UTF8 ? (heap as unknown as Required<Utf8Buffer>).utf8Slice(start, end) : heap.toString('utf8', start, end)
const writeUtf8 = (heap: Buffer, s: string, offset: number, length: number): number =>
  DIRECT_UTF8 ? (heap as unknown as Required<Utf8Buffer>).utf8Write(s, offset, length) : heap.write(s, offset, length, 'utf8')

/** What ctx.unwrapResult() takes: exactly one of value or error, both owned handles. */
export type CallResult = SuccessOrFail<QuickJSHandle, QuickJSHandle>

export type FastArg = QuickJSHandle | string | number

interface Internals {
  ffi: {
    QTS_NewString: (ctx: number, str: number) => number
    QTS_NewFloat64: (ctx: number, n: number) => number
    QTS_Call: (ctx: number, fn: number, self: number, argc: number, argv: number) => number
    QTS_ResolveException: (ctx: number, value: number) => number
    QTS_FreeValuePointer: (ctx: number, value: number) => void
    QTS_PromiseState: (ctx: number, value: number) => number
    QTS_GetString: (ctx: number, value: number) => number
    QTS_FreeCString: (ctx: number, str: number) => void
  }
  module: {
    _malloc: (n: number) => number
    _free: (p: number) => void
    lengthBytesUTF8: (s: string) => number
    stringToUTF8: (s: string, p: number, max: number) => void
  }
  ctxPtr: number
  handle: (ptr: number) => QuickJSHandle
}

export class FastCall {
  readonly #i: Internals
  readonly #memory: WebAssembly.Memory
  readonly #undefined: number
  /**
   * Scratch reused by every call: the argument pointers and the strings' byte lengths. Not
   * reentrant: nothing QTS_Call can reach (the interrupt handler, the module loader, the
   * time-zone helper) calls a FastCall.
   */
  readonly #ptrs: number[] = []
  readonly #lengths: number[] = []
  #view: Int32Array
  /** The same memory as bytes, for strings; both views are renewed when the memory grows. */
  #bytes: Buffer
  /** QuickJS's tag of a string value when its strings may be read in place (see STRING_CHARS), else undefined. */
  #stringTag: number | undefined

  private constructor (i: Internals, memory: WebAssembly.Memory, undef: number) {
    this.#i = i
    this.#memory = memory
    this.#undefined = undef
    this.#view = new Int32Array(memory.buffer)
    this.#bytes = Buffer.from(memory.buffer)
    // The layout is the build's: probed on the first instance of each build in a thread, and
    // again on an instance whose probe could not run (out of memory).
    const build = Object.getPrototypeOf(i.ffi) as object
    const known = PROBED.get(build)
    if (known !== undefined) {
      this.#stringTag = known.tag
    } else {
      const probed = this.#probeStrings()
      if (probed !== OUT_OF_MEMORY) PROBED.set(build, { tag: probed })
      this.#stringTag = probed === OUT_OF_MEMORY ? undefined : probed
    }
  }

  /** Whether result strings are read in place (see STRING_CHARS) rather than copied out. */
  get readsInPlace (): boolean {
    return this.#stringTag !== undefined
  }

  /** The Int32 view of the memory as it is now (see #heap()). */
  #words (): Int32Array {
    if (this.#view.length === 0) this.#view = new Int32Array(this.#memory.buffer)
    return this.#view
  }

  /**
   * The string tag, when a string QuickJS made from PROBE reads back whole in place and a
   * number's tag differs from it; undefined otherwise (or when the sandbox is out of memory).
   */
  #probeStrings (): number | undefined | typeof OUT_OF_MEMORY {
    if (!HAS_LATIN1) return undefined
    const { ffi, module: m, ctxPtr } = this.#i
    const at = m._malloc(64)
    if (at === 0) return OUT_OF_MEMORY
    let str = 0
    let num = 0
    try {
      this.#heap()[at + writeUtf8(this.#heap(), PROBE, at, 62)] = 0
      str = ffi.QTS_NewString(ctxPtr, at)
      num = ffi.QTS_NewFloat64(ctxPtr, 0.5)
      if (str === 0 || num === 0) return OUT_OF_MEMORY
      const words = this.#words()
      const tag = words[(str >> 2) + 1]
      if (tag === words[(num >> 2) + 1]) return undefined
      return this.#inPlace(str, tag) === PROBE ? tag : undefined
    } finally {
      if (str !== 0) ffi.QTS_FreeValuePointer(ctxPtr, str)
      if (num !== 0) ffi.QTS_FreeValuePointer(ctxPtr, num)
      m._free(at)
    }
  }

  /** The string value at `value` read in place, or undefined when it is not a one-byte string. */
  #inPlace (value: number, tag: number | undefined): string | undefined {
    const words = this.#words()
    if (words[(value >> 2) + 1] !== tag) return undefined
    const str = words[value >> 2]
    // The length word: below 0 when the top bit (16-bit characters) is set.
    const length = words[(str >> 2) + 1]
    if (length < 0) return undefined
    const start = str + STRING_CHARS
    return (this.#heap() as unknown as Required<Utf8Buffer>).latin1Slice(start, start + length)
  }

  /**
   * The byte view of the memory as it is now. Growing the memory detaches the old buffer, and a
   * view of a detached buffer has length 0 (a memory is never empty): reading the view's length
   * is inlined where `memory.buffer` is a call into the runtime each time.
   */
  #heap (): Buffer {
    if (this.#bytes.length === 0) this.#bytes = Buffer.from(this.#memory.buffer)
    return this.#bytes
  }

  /** The memory's size in bytes now (as `memory.buffer.byteLength`, without the call). */
  get memoryBytes (): number {
    return this.#heap().length
  }

  static of (ctx: QuickJSContext, memory: WebAssembly.Memory): FastCall | undefined {
    // Protected members of QuickJSContext (ffi, module, ctx, memory): typed loosely on purpose.
    const c = ctx as unknown as {
      ffi?: Record<string, unknown>
      module?: Record<string, unknown>
      ctx?: { value?: unknown }
      memory?: { heapValueHandle?: unknown }
    }
    const ffi = c.ffi
    const mod = c.module
    const mem = c.memory
    const ctxPtr = c.ctx?.value
    if (ffi === undefined || mod === undefined || mem === undefined || typeof ctxPtr !== 'number') return undefined
    const fns = [
      ffi.QTS_NewString,
      ffi.QTS_NewFloat64,
      ffi.QTS_Call,
      ffi.QTS_ResolveException,
      ffi.QTS_FreeValuePointer,
      ffi.QTS_PromiseState,
      ffi.QTS_GetString,
      ffi.QTS_FreeCString,
      mod._malloc,
      mod._free,
      mod.lengthBytesUTF8,
      mod.stringToUTF8,
      mem.heapValueHandle
    ]
    if (!fns.every((f) => typeof f === 'function')) return undefined
    const heapValueHandle = mem.heapValueHandle as (ptr: number) => QuickJSHandle
    return new FastCall({
      ffi: ffi as unknown as Internals['ffi'],
      module: mod as unknown as Internals['module'],
      ctxPtr,
      handle: (ptr) => heapValueHandle.call(mem, ptr)
    }, memory, ctx.undefined.value as unknown as number)
  }

  /**
   * Calls fn(...args) with `this` undefined. Strings and numbers become QuickJS values that
   * live only for the call; handles are passed as they are. Undefined when the sandbox has no
   * memory left for the arguments (the caller falls back to the public API, which reports it).
   */
  call (fn: QuickJSHandle, args: ReadonlyArray<FastArg | undefined>): CallResult | undefined {
    const result = this.#call(fn, args)
    if (result === 0) return undefined
    return this.#wrap(result, this.#i.ffi.QTS_ResolveException(this.#i.ctxPtr, result))
  }

  /**
   * Like call(), for a function that returns a string or a promise (the prelude's run):
   * a string result is read and freed at once, without a handle, a typeof and a dispose
   * crossing each (QTS_PromiseState answers below 0 for anything that is not a promise).
   * Anything else comes back as call() would return it.
   */
  callForString (fn: QuickJSHandle, args: ReadonlyArray<FastArg | undefined>): string | CallResult | undefined {
    const result = this.#call(fn, args)
    if (result === 0) return undefined
    const { ffi, ctxPtr } = this.#i
    // A string is neither an exception nor a promise: nothing else need be asked.
    const direct = this.#stringTag === undefined ? undefined : this.#inPlace(result, this.#stringTag)
    if (direct !== undefined) {
      ffi.QTS_FreeValuePointer(ctxPtr, result)
      return direct
    }
    const error = ffi.QTS_ResolveException(ctxPtr, result)
    if (error !== 0 || ffi.QTS_PromiseState(ctxPtr, result) >= 0) return this.#wrap(result, error)
    const chars = ffi.QTS_GetString(ctxPtr, result)
    ffi.QTS_FreeValuePointer(ctxPtr, result)
    // No memory left for the copy: the same outcome as QuickJS's own allocation failure.
    if (chars === 0) throw new Error('out of memory')
    // A C string: its end is the first zero byte. Malformed UTF-8 (QuickJS writes a lone
    // surrogate as its 3-byte encoding) becomes U+FFFD, as TextDecoder made it before.
    const heap = this.#heap()
    const text = readUtf8(heap, chars, heap.indexOf(0, chars))
    ffi.QTS_FreeCString(ctxPtr, chars)
    return text
  }

  /** Calls fn; the result's pointer, or 0 when the arguments found no memory. */
  #call (fn: QuickJSHandle, args: ReadonlyArray<FastArg | undefined>): number {
    const { ffi, module: m, ctxPtr } = this.#i
    const argc = args.length
    let bytes = argc * 4
    const lengths = this.#lengths
    for (let i = 0; i < argc; i++) {
      const a = args[i]
      // Buffer.byteLength counts a lone surrogate as 3 bytes (U+FFFD), as write() writes it.
      if (typeof a === 'string') bytes += (lengths[i] = (a.length < LONG_STRING ? m.lengthBytesUTF8(a) : Buffer.byteLength(a)) + 1)
    }
    const block = m._malloc(bytes)
    if (block === 0) return 0
    const ptrs = this.#ptrs
    let at = block + argc * 4
    for (let i = 0; i < argc; i++) {
      const a = args[i]
      if (a === undefined) ptrs[i] = this.#undefined
      else if (typeof a === 'string') {
        if (a.length < LONG_STRING) m.stringToUTF8(a, at, lengths[i])
        else {
          // The view is taken here: creating the values before may have grown the memory.
          // Buffer's write() is V8's encoder writing in place, without a subarray per string.
          const heap = this.#heap()
          heap[at + writeUtf8(heap, a, at, lengths[i] - 1)] = 0
        }
        ptrs[i] = ffi.QTS_NewString(ctxPtr, at)
        at += lengths[i]
      } else if (typeof a === 'number') ptrs[i] = ffi.QTS_NewFloat64(ctxPtr, a)
      else ptrs[i] = a.value as unknown as number
    }
    // The view is taken only now: creating the values may have grown (and detached) the memory.
    const view = this.#words()
    for (let i = 0; i < argc; i++) view[(block >> 2) + i] = ptrs[i]
    const result = ffi.QTS_Call(ctxPtr, fn.value as unknown as number, this.#undefined, argc, block)
    // The values made for strings and numbers live only for the call; handles stay their owners'.
    for (let i = 0; i < argc; i++) {
      const a = args[i]
      if (typeof a === 'string' || typeof a === 'number') ffi.QTS_FreeValuePointer(ctxPtr, ptrs[i])
    }
    m._free(block)
    return result
  }

  /** `error`: what QTS_ResolveException answered for `result` (it may be asked only once). */
  #wrap (result: number, error: number): CallResult {
    const { ffi, ctxPtr, handle } = this.#i
    if (error !== 0) {
      ffi.QTS_FreeValuePointer(ctxPtr, result)
      return { error: handle(error) }
    }
    return { value: handle(result) }
  }
}

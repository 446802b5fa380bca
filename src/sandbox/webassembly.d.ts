// The few WebAssembly globals the sandbox uses. @types/node 20 does not declare them (they
// live in lib.dom), and pulling in the DOM library would make browser globals look usable.
declare namespace WebAssembly {
  class Module {
    constructor (bytes: ArrayBufferView | ArrayBuffer)
  }
  interface MemoryDescriptor { initial: number, maximum?: number, shared?: boolean }
  class Memory {
    constructor (descriptor: MemoryDescriptor)
    readonly buffer: ArrayBuffer
    grow (delta: number): number
  }
}

// Builds sandbox specs from inline source for tests, with the manifest defaults filled in.
import type { FunctionSpec } from '../../src/sandbox/index.js'

let n = 0

export function makeSpec (code: string, opts: Partial<Omit<FunctionSpec, 'limits'>> & { limits?: Partial<FunctionSpec['limits']> } = {}): FunctionSpec {
  n++
  return {
    name: opts.name ?? `fn${n}`,
    version: opts.version ?? `v${n}`,
    files: opts.files ?? { 'index.js': code },
    layers: opts.layers ?? {},
    handler: opts.handler ?? 'index.js',
    limits: { memoryKiB: 32768, timeoutMs: 1000, instructions: 10_000_000, concurrency: 1, stackKiB: 64, ...opts.limits },
    env: opts.env ?? {},
    publish: opts.publish ?? [],
    provisioned: opts.provisioned ?? 0
  }
}

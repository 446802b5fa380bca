// The cloud registry: its contract and the LevelDB backend.
export * from './types.js'
export { LevelRegistry } from './level-registry.js'
export * from './deploy-types.js'

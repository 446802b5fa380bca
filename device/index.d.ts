export { Agent } from './agent.js';
export type { AgentOptions } from './agent.js';
export type { InvocationRecord } from './invoker.js';

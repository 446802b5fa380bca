// Public surface of the device agent.
export { Agent } from './agent.js';
//# sourceMappingURL=index.js.map
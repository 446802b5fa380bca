// The shape of the agent's configuration after loading: every key present (or explicitly
// optional), units in the names, paths absolute.
export {};
//# sourceMappingURL=types.js.map
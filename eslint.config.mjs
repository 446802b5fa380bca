// The lint and format rules: neostandard (JavaScript Standard Style on ESLint 9 flat config,
// with typescript-eslint for .ts/.tsx). `npm run lint` checks; `npm run lint:fix` formats.
import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'node_modules/**', 'coverage/**'],
  }),
  {
    rules: {
      // Long lines wrap; 160 is the house limit (strings and URLs may run over).
      'no-void': ['error', { allowAsStatement: true }],
      // A variable a closure reads before its one assignment (a handle the closure clears) stays `let`.
      'prefer-const': ['error', { destructuring: 'all', ignoreReadBeforeAssign: true }],
      // Matching control characters is the point where lambkin escapes or refuses them (src/log-text.ts).
      'no-control-regex': 'off',
      // Loop conditions changed by callbacks and awaited events, which this rule cannot see.
      'no-unmodified-loop-condition': 'off',
      // uPlot's constructor is spelled by its library.
      'new-cap': ['error', { newIsCap: true, capIsNew: false, properties: true, newIsCapExceptions: ['uPlot'] }],
      // Deprecated in @stylistic 5 and in conflict with its `indent` (circular fixes on JSX).
      '@stylistic/jsx-indent': 'off',
      '@stylistic/max-len': ['error', { code: 160, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true }],
    },
  },
]

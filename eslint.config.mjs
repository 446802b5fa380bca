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
      '@stylistic/max-len': ['error', { code: 160, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true }],
    },
  },
]

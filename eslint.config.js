// Lint of the sources, tests, examples and benchmarks: neostandard (standard's
// rules in ESLint's flat config, with TypeScript), the style the code was
// written in, with the few rules below set to how it is written.
import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: [
      ...neostandard.resolveIgnoresFromGitignore(),
      'kit/dist/**', 'examples/service/build/**', '.tshy/**'
    ]
  }),
  {
    rules: {
      // Long object literals are broken where they read best, not one property per line.
      '@stylistic/object-property-newline': 'off',
      '@stylistic/object-curly-newline': 'off',
      // `void promise` marks a promise deliberately left floating (its errors are handled inside).
      'no-void': ['error', { allowAsStatement: true }],
      // Loops waiting on a flag that a callback or another task sets: the rule cannot see those writes.
      'no-unmodified-loop-condition': 'off'
    }
  },
  {
    // prom-client metrics register themselves on their Registry when constructed.
    files: ['src/metrics/index.ts'],
    rules: { 'no-new': 'off' }
  }
]

// ESLint: typescript-eslint's type-aware recommended rules on the TypeScript of src/, test/,
// bench/ and native-free/ (each file checked with the types of the project that builds it), and
// ESLint's recommended rules on the few JavaScript files. The packages come from tools/lint, a
// workspace of its own so that typescript-eslint gets TypeScript 6's API while `tsc` is 7 (see
// tools/lint/index.js). `npm run lint` runs this, then `prettier --check`.
import { defineConfig, globalIgnores, js, tseslint } from './tools/lint/index.js';

// examples/ is a user's code, not ours: test/package/examples.test.ts compiles it as a user
// project would (strict, exactOptionalPropertyTypes, `lightws` by its name), runs and talks to each.
export default defineConfig(
  globalIgnores(['dist/', 'bench/results/', 'bench/out/', 'test/package/consumer/', 'examples/', '**/node_modules/']),
  {
    files: ['**/*.ts', '**/*.cts', '**/*.mts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // Each file with the project that builds it: tsconfig.json (src, test, native-free) or
        // bench/tsconfig.json, both with noUncheckedIndexedAccess, which the code is written for.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Stays on, except for node:test's test(), describe(), it() and suite(): the runner awaits
      // what they return, so there is nothing for the caller to handle.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      // tsc already checks this (noUnusedLocals, noUnusedParameters), with TypeScript's own
      // exceptions (`_` parameters, properties named to leave them out of a rest): one checker.
      '@typescript-eslint/no-unused-vars': 'off',
      // The handlers (open, message, close, error, drain, upgrade...) are written with method
      // syntax in the option types, as users write them, but lightws calls them as plain
      // functions, never through the options object: passing them around unbound is the design.
      '@typescript-eslint/unbound-method': 'off',
      // An `async` function without `await` is how this code implements an interface that returns
      // a Promise: a throw inside it becomes the rejection the caller handles.
      '@typescript-eslint/require-await': 'off',
      // A caught value passed on as it came (catch variables are `unknown`) is not a made-up
      // non-Error reason.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // `interface Route extends RouteSpec {}`: a second public name for the same shape.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // The tests turn received messages into text for assertions: ws hands them over as Buffers
      // (its default binaryType), never as the ArrayBuffer its RawData type also allows, and what
      // the bridge tests log as SendData is what they sent, strings and Buffers.
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
  },
  {
    // The chat page's script runs in the browser, as a classic script.
    files: ['src/chat/public/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        WebSocket: 'readonly',
        URLSearchParams: 'readonly',
        setTimeout: 'readonly',
      },
    },
  },
);

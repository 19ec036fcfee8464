// @ts-check
/**
 * ESLint 9 flat config: typescript-eslint's type-aware recommended rules, plus a guard that keeps workflow code
 * inside what Temporal's workflow sandbox allows (the bundler would otherwise only fail at Worker.create time).
 */
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// import.meta.dirname needs Node 20.11; package.json promises >=20.3.
const rootDir = path.dirname(fileURLToPath(import.meta.url));

const SANDBOX_MESSAGE =
  "Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O, no activity/client/worker " +
  'packages. Do that work in an activity and call it through proxyActivities (import activity types with `import type`).';

// Every built-in, in both spellings (`fs` and `node:fs`); some newer ones exist only with the prefix (`node:test`).
const nodeBuiltins = [
  ...new Set(builtinModules.flatMap((name) => (name.startsWith('node:') ? [name] : [name, `node:${name}`]))),
];

export default tseslint.config(
  {
    ignores: ['dist/', 'node_modules/', 'coverage/', '.state/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: rootDir,
      },
    },
    rules: {
      // A dropped promise in a runbook is a step that silently never happened (or an unhandled rejection).
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // `_`-prefixed names are deliberate (interface-shaped parameters, destructuring to omit a field).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Plain JS config files (jest.config.js, this file) are not in tsconfig: lint them without type information.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    // What the Temporal bundler rejects (worker/lib/workflow/bundler.js), caught at lint time, as the samples do
    // (samples-typescript/.shared/.eslintrc.js). The typescript-eslint variant of no-restricted-imports is used so
    // that `import type` stays allowed: types are erased and never reach the sandbox.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: SANDBOX_MESSAGE, allowTypeImports: true })),
            ...['@temporalio/activity', '@temporalio/client', '@temporalio/worker'].map((name) => ({
              name,
              message: SANDBOX_MESSAGE,
              allowTypeImports: true,
            })),
          ],
          patterns: [
            {
              group: ['@temporalio/activity/*', '@temporalio/client/*', '@temporalio/worker/*'],
              message: SANDBOX_MESSAGE,
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);

// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Temporal's recommended guard for workflow code: no Node built-ins (the sandbox has none, and
// they are non-deterministic), plus the libraries that do I/O. Types may still be imported.
const ALLOWED_NODE_BUILTINS = new Set(['assert']);
const nodeBuiltins = builtinModules
  .filter((m) => !ALLOWED_NODE_BUILTINS.has(m))
  .flatMap((m) => [m, `node:${m}`]);
const ioLibraries = ['pg', 'knex', 'objection', 'ioredis', 'openai', 'koa', '@koa/router', 'socket.io', 'pino', 'jose', '@node-rs/argon2', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'];

// Our folders, reached by a relative path from any depth (`../db/x`, `../../db`, `../../../infra/...`).
const ourFolder = (names) => `^(\\.{1,2}/)+(${names.join('|')})(/|$)`;

// The options of the determinism rule: no I/O library or Node built-in (types allowed), `typesOnly`
// folders by type only, `never` folders not at all.
function determinism(typesOnly, never) {
  return {
    paths: [...nodeBuiltins, ...ioLibraries].map((name) => ({
      name,
      message: 'Workflow and domain code must stay deterministic: do I/O in activities.',
      allowTypeImports: true,
    })),
    patterns: [
      ...(typesOnly.length
        ? [{ regex: ourFolder(typesOnly), message: 'Workflows import activities by type only; side effects live in activities.', allowTypeImports: true }]
        : []),
      { regex: ourFolder(never), message: 'Workflow and domain code never import this layer (not even its types): side effects live in activities.' },
    ],
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'temporal-docker/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Forgetting to await an activity, a timer or a DB call is a silent bug.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      // Response bodies in tests are whatever the API sent; assertions check their shape.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', determinism(['activities'], ['api', 'db', 'infra', 'workers', 'scripts'])] },
  },
  {
    // Pure rules import nothing of ours but each other, not even types.
    files: ['domain/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', determinism([], ['activities', 'api', 'db', 'infra', 'workers', 'scripts', 'workflows'])] },
  },
);

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

// The lint rule that keeps workflow and domain code deterministic, run through ESLint with the
// project's own config against code placed (by path) in a sub-folder, where `../../db/...` is
// what an import of the database looks like. The text replaces the named file's content for the
// lint only; the file must exist for the TypeScript project service to accept the path.
const root = join(__dirname, '..', '..');
const RULE = '@typescript-eslint/no-restricted-imports';
const eslint = new ESLint({ cwd: root });

async function restrictedImports(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  assert.ok(result);
  const broken = result.messages.filter((m) => m.fatal);
  assert.deepEqual(broken, [], 'the probe must parse');
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

const IN_WORKFLOW_FOLDER = 'workflows/conversation/transitions.ts';
const IN_DOMAIN = 'domain/calendar.ts';

const cases: [string, string, string, boolean][] = [
  // what, file, code, fires
  ['a value import of the database, two levels up', IN_WORKFLOW_FOLDER, `import { withTenant } from '../../db/tenant-scope';\nexport const w = withTenant;\n`, true],
  ['a Node built-in', IN_WORKFLOW_FOLDER, `import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n`, true],
  ['activities by type', IN_WORKFLOW_FOLDER, `import type { Activities } from '../../activities';\nexport type A = Activities;\n`, false],
  ['a value import of activities (their index)', IN_WORKFLOW_FOLDER, `import { createActivities } from '../../activities';\nexport const c = createActivities;\n`, true],
  ['a value import of one activity module', IN_WORKFLOW_FOLDER, `import { conversationActivities } from '../../activities/conversations';\nexport const c = conversationActivities;\n`, true],
  ['infra', IN_WORKFLOW_FOLDER, `import { createLogger } from '../../infra/logger';\nexport const l = createLogger;\n`, true],
  ['the API', IN_WORKFLOW_FOLDER, `import { buildApp } from '../../api/app';\nexport const b = buildApp;\n`, true],
  ['the database even by type', IN_WORKFLOW_FOLDER, `import type { Knex } from '../../db/connection';\nexport type K = Knex;\n`, true],
  ['an I/O library', IN_WORKFLOW_FOLDER, `import knex from 'knex';\nexport const k = knex;\n`, true],
  ['a pure rule', IN_WORKFLOW_FOLDER, `import { isWindowOpen } from '../../domain/customer-window';\nexport const o = isWindowOpen;\n`, false],
  ['a sibling module', IN_WORKFLOW_FOLDER, `import { CONVERSATION_ERRORS } from './definitions';\nexport const e = CONVERSATION_ERRORS;\n`, false],
  ['domain importing activities, even by type', IN_DOMAIN, `import type { Activities } from '../activities';\nexport type A = Activities;\n`, true],
  ['domain importing a workflow', IN_DOMAIN, `import { conversationWorkflowId } from '../workflows/conversation';\nexport const c = conversationWorkflowId;\n`, true],
  ['domain importing domain', IN_DOMAIN, `import { WEEKDAYS } from './tenant-settings';\nexport const w = WEEKDAYS;\n`, false],
];

describe('determinism lint rule for workflows/ and domain/', () => {
  for (const [what, file, code, fires] of cases) {
    it(`${fires ? 'refuses' : 'allows'} ${what} (${file})`, async () => {
      const messages = await restrictedImports(code, file);
      assert.equal(messages.length > 0, fires, JSON.stringify(messages));
    });
  }
});

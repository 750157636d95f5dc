import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { PRELOADED_MODULES, workflowBundle } from '../../workers/worker';

// The worker preloads the pure rules of domain/ into the reusable V8 context: one copy of each
// module serves every workflow run on the worker. A module-level variable there would be shared
// by all runs, and a run's replay would see what another run left in it (a nondeterminism error
// in production, never in a test that runs one workflow). So no module of domain/ may hold state
// at its top level, beyond memo caches whose values follow from their keys alone.

// file → names of top-level collections allowed, each a cache of a pure function of its key.
const MEMO_CACHES: Record<string, string[]> = {
  'calendar.ts': ['holidaysByYear', 'formatters'],
  'tenant-settings.ts': ['validTimeZones'],
};
// Built once and only read afterwards.
const READ_ONLY_TABLES: Record<string, string[]> = {
  'dunning-plan.ts': ['KIND_ORDER'],
  'sales-replies.ts': ['OPT_OUT_WORDS'],
  'triage-rules.ts': ['POLITE_FILLER', 'PERSON_SET', 'GREETING_FILLER', 'STOPWORDS'],
};

const MUTABLE_CONSTRUCTORS = new Set(['Map', 'Set', 'WeakMap', 'WeakSet', 'Array']);

function topLevelState(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    const flags = statement.declarationList.flags;
    const isConst = (flags & ts.NodeFlags.Const) !== 0;
    for (const d of statement.declarationList.declarations) {
      const name = d.name.getText(source);
      if (!isConst) {
        found.push(`${name} (let/var)`);
        continue;
      }
      const init = d.initializer;
      // Typed ReadonlySet/ReadonlyMap: the compiler already keeps it from being written.
      const readOnly = /^Readonly/.test(d.type?.getText(source) ?? '');
      if (init && !readOnly && ts.isNewExpression(init) && ts.isIdentifier(init.expression) && MUTABLE_CONSTRUCTORS.has(init.expression.text)) found.push(name);
    }
  }
  return found;
}

describe('modules preloaded into the workflow context', () => {
  it('are every module of domain/, and the bundle preloads them', async () => {
    assert.ok(PRELOADED_MODULES.length >= 40, `only ${PRELOADED_MODULES.length} modules`);
    const { code } = await workflowBundle();
    const body = code.slice(code.indexOf('exports.preloadModules = function preloadModules()'));
    assert.ok(body.length < code.length, 'the bundle has no preloadModules entry');
    for (const m of ['tenant-settings.ts', 'triage-rules.ts', 'outbound-content.ts', 'calendar.ts']) {
      assert.match(body.slice(0, 20_000), new RegExp(`__webpack_require__\\([^)]*"\\./domain/${m.replace('.', '\\.')}"\\)`), `${m} is not preloaded`);
    }
  });

  it('hold no state at their top level beyond pure memo caches and read-only tables', () => {
    const offenders: string[] = [];
    for (const file of PRELOADED_MODULES) {
      const name = basename(file);
      const allowed = new Set([...(MEMO_CACHES[name] ?? []), ...(READ_ONLY_TABLES[name] ?? [])]);
      for (const state of topLevelState(file)) if (!allowed.has(state)) offenders.push(`domain/${name}: ${state}`);
    }
    assert.deepEqual(offenders, [], 'module-level state in a preloaded module is shared by every workflow run on the worker');
  });

  it('would catch a module-level variable', () => {
    const file = PRELOADED_MODULES.find((f) => basename(f) === 'calendar.ts')!;
    // The memo caches are found (and allowed only by name), so a new one would not pass unnoticed.
    assert.deepEqual(topLevelState(file).sort(), ['formatters', 'holidaysByYear']);
  });
});

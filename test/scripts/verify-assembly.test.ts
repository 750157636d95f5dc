import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { AssemblyRecord } from '../../domain/assembly-record';
import { sealedRecord } from '../support/assembly-fixture';

// `npm run verify:assembly -- <record.json>` as a member or an auditor runs it: on a record file
// and nothing else. The record is the hand-worked fixture (test/support/assembly-fixture.ts).
const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'orquestra-verify-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

function verify(...args: string[]) {
  const run = spawnSync('npm', ['run', '--silent', 'verify:assembly', '--', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

const copy = (r: AssemblyRecord): AssemblyRecord => JSON.parse(JSON.stringify(r));

describe('npm run verify:assembly', () => {
  const record = sealedRecord();

  it('a sealed record: exit 0 and a report of what was recomputed', () => {
    const { code, out } = verify(write('record.json', record));
    assert.equal(code, 0, out);
    for (const line of [
      'Group:          G-010 Grupo Autos 010 (00000000-0000-4000-8000-000000000010), 20 quotas, credit R$ 10.000,00',
      'Month:          2026-04, assembly on 2026-04-22',
      'Rules:          version 2, draw rule loteria-15, tie-break nearest-drawn-higher-first',
      'Lottery:        Loteria Federal contest 06050 of 2026-04-18: 12007 34012 56003 78015 90018 (entered by operator, corrected 1 time(s))',
      "Drawn quota:    7 (candidates 7, 200, 120, 12, 401, 340, 3, 600, 560, 15, 801, 780, 18, 1, 900); bids' reference quota 7",
      '1. quota 12, lance fixo 50% (R$ 5.000,00), distance 5',
      '2. quota 10, lance livre 30% (R$ 3.000,00), distance 3',
      '3. quota 4, lance livre 30% (R$ 3.000,00), distance 3',
      'quota 7 by draw: confirmed, credit R$ 10.000,00',
      'quota 9 by draw among excluded (restitution): confirmed, restitution R$ 800,00',
      'quota 12 by bid 50%: pending payment, credit R$ 10.000,00',
      'quota 10 by bid 30%: pending payment, credit R$ 10.000,00',
      `SHA-256:        ${record.sha256} (recomputed)`,
      'OK: the result and hash match',
    ]) {
      assert.ok(out.includes(line), `missing ${JSON.stringify(line)} in:\n${out}`);
    }
  });

  it('a tampered copy: exit 1, each problem listed', () => {
    const bad = copy(record);
    bad.inputs.bids.find((b) => b.quota === 4)!.percent = 40;
    const { code, out } = verify(write('tampered.json', bad));
    assert.equal(code, 1, out);
    assert.match(out, /FAILED: \d+ problem\(s\)/);
    assert.match(out, /^ {2}- the ranking differs: /m);
    assert.match(out, /^ {2}- the contemplations differ: /m);
    assert.match(out, /^ {2}- the SHA-256 does not match: /m);
    assert.ok(!out.includes('OK: the result and hash match'));
  });

  it('only the hash changed: exit 1', () => {
    const bad = { ...copy(record), sha256: '0'.repeat(64) };
    const { code, out } = verify(write('hash.json', bad));
    assert.equal(code, 1, out);
    assert.ok(out.includes(`  - the SHA-256 does not match: recorded ${'0'.repeat(64)}, computed ${record.sha256}`), out);
  });

  it('JSON that is no record: exit 1', () => {
    const { code, out } = verify(write('array.json', '[1, 2]'));
    assert.equal(code, 1, out);
    assert.match(out, /^ {2}- the record is not a JSON object/m);
  });

  it('unreadable input: exit 2', () => {
    const notJson = verify(write('broken.json', '{"format": '));
    assert.equal(notJson.code, 2);
    assert.match(notJson.err, /^cannot read .*broken\.json: not JSON/);
    const missing = verify(join(dir, 'nowhere.json'));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /no such file/);
  });

  it('no file or two: exit 2 with the usage', () => {
    for (const args of [[], ['a.json', 'b.json']]) {
      const { code, err } = verify(...args);
      assert.equal(code, 2);
      assert.match(err, /usage: npm run verify:assembly -- <record\.json>/);
    }
  });

  it('uses only the pure rule module', () => {
    const source = readFileSync(join(ROOT, 'scripts', 'verify-assembly.ts'), 'utf8');
    const imports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    assert.ok(imports.length > 0);
    for (const from of imports) assert.ok(from === 'node:fs' || from!.startsWith('../domain/'), `imports ${from}`);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, recordHash, verifyAssemblyRecord, type AssemblyRecord } from '../../domain/assembly-record';
import { assemblyInputs, sealedRecord } from '../support/assembly-fixture';

// What a third party holds: the record as JSON text, nothing else.
const asReceived = (r: AssemblyRecord): AssemblyRecord => JSON.parse(JSON.stringify(r, null, 2));
const tampered = (change: (r: AssemblyRecord) => void): AssemblyRecord => {
  const r = asReceived(sealedRecord());
  change(r);
  return r;
};
const has = (problems: string[], pattern: RegExp) => assert.ok(problems.some((p) => pattern.test(p)), `no problem matches ${pattern}: ${JSON.stringify(problems)}`);

describe('verifyAssemblyRecord: a sealed record', () => {
  it('round-tripped through JSON, recomputes to the same result and hash', () => {
    const record = sealedRecord();
    const check = verifyAssemblyRecord(asReceived(record));
    assert.deepEqual(check.problems, []);
    assert.equal(check.ok, true);
    assert.equal(check.sha256, record.sha256);
    assert.deepEqual(check.recomputed, record.result);
  });
  it('hashes the canonical JSON: key order and layout do not matter', () => {
    const record = sealedRecord();
    const reordered = Object.fromEntries(Object.entries(asReceived(record)).reverse()) as unknown as AssemblyRecord;
    assert.equal(recordHash(reordered), record.sha256);
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
    assert.match(record.sha256, /^[0-9a-f]{64}$/);
  });
  it('a Date sealed in memory hashes as the string it becomes in the file', () => {
    const record = sealedRecord();
    const withDate = { ...record, closedAt: new Date(record.closedAt) as unknown as string };
    assert.equal(recordHash(withDate), record.sha256);
  });
  it('a record whose bids are still being paid verifies as well, and so does the final one', () => {
    const final = sealedRecord(assemblyInputs({ bidPayments: { 'b-12': 'unpaid', 'b-10': 'paid', 'b-4': 'paid' } }));
    assert.equal(final.result.complete, true);
    assert.deepEqual(verifyAssemblyRecord(asReceived(final)).problems, []);
  });
});

describe('verifyAssemblyRecord: a changed record fails, naming what differs', () => {
  it("a bid's percent", () => {
    // Quota 4 now offers 40%: it outranks quota 10 and wins in its place.
    const r = tampered((x) => {
      const bid = x.inputs.bids.find((b) => b.quota === 4)!;
      bid.percent = 40;
    });
    const check = verifyAssemblyRecord(r);
    assert.equal(check.ok, false);
    has(check.problems, /^the ranking differs: recorded 1\. quota 12 50%, 2\. quota 10 30%, 3\. quota 4 30%.*; recomputed 1\. quota 12 50%, 2\. quota 4 40%, 3\. quota 10 30%/);
    has(check.problems, /^the contemplations differ: recorded draw:7:confirmed excluded_draw:9:confirmed bid:12:pending_payment bid:10:pending_payment, recomputed .* bid:4:pending_payment$/);
    has(check.problems, /^the SHA-256 does not match/);
  });
  it('a prize digit', () => {
    // 12007 → 12008: the first candidate is 8, and quota 8 is drawn.
    const r = tampered((x) => {
      x.inputs.extraction.prizes[0] = '12008';
    });
    const check = verifyAssemblyRecord(r);
    assert.equal(check.ok, false);
    has(check.problems, /^the draw differs: recorded quota 7 from candidates 7 200 120 .*, recomputed quota 8 from candidates 8 200 120 /);
    has(check.problems, /^the lottery entry's prizes \(12007 34012 56003 78015 90018\) are not the ones the derivation used \(12008 34012 56003 78015 90018\)$/);
  });
  it('the prizes changed in both places, hash recomputed: the derivation still gives it away', () => {
    const r = tampered((x) => {
      x.inputs.extraction.prizes[0] = '12008';
      x.lottery.prizes[0] = '12008';
    });
    r.sha256 = recordHash(r);
    const check = verifyAssemblyRecord(r);
    assert.equal(check.ok, false);
    has(check.problems, /^the draw differs/);
    assert.ok(!check.problems.some((p) => /SHA-256/.test(p)));
  });
  it("a quota's standing", () => {
    // Quota 7 late on the extraction date: it cannot be drawn; 12 is.
    const r = tampered((x) => {
      x.inputs.quotas.find((q) => q.number === 7)!.upToDate = false;
    });
    const check = verifyAssemblyRecord(r);
    assert.equal(check.ok, false);
    has(check.problems, /^the draw differs: recorded quota 7 .*, recomputed quota 12 /);
    has(check.problems, /^the outcome of bid\(s\) b-12, b-4, b-7 differs/);
  });
  it('the fund balance', () => {
    const r = tampered((x) => {
      x.inputs.fund.commonCents = 2_000_000;
    });
    has(verifyAssemblyRecord(r).problems, /^the fund after the assembly differs/);
  });
  it('the result', () => {
    const r = tampered((x) => {
      x.result.contemplations[0]!.quota = 8;
    });
    const check = verifyAssemblyRecord(r);
    has(check.problems, /^the contemplations differ: recorded draw:8:confirmed .*, recomputed draw:7:confirmed /);
    has(check.problems, /^the SHA-256 does not match/);
  });
  it('a derivation step’s text', () => {
    const r = tampered((x) => {
      x.result.steps[1]!.text = 'Cota sorteada entre as ativas: 8.';
    });
    has(verifyAssemblyRecord(r).problems, /^the derivation differs from step 2 \(draw\)$/);
  });
  it('the hash alone', () => {
    const r = tampered((x) => {
      x.sha256 = x.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    });
    const check = verifyAssemblyRecord(r);
    assert.equal(check.ok, false);
    assert.deepEqual(check.problems, [`the SHA-256 does not match: recorded ${r.sha256}, computed ${sealedRecord().sha256}`]);
  });
  it('an audited lottery correction, removed', () => {
    const r = tampered((x) => {
      x.lotteryCorrections = [];
    });
    assert.deepEqual(verifyAssemblyRecord(r).problems.map((p) => p.slice(0, 30)), ['the SHA-256 does not match: re']);
  });
  it("the record's month, against its inputs", () => {
    const r = tampered((x) => {
      x.month = '2026-05';
    });
    has(verifyAssemblyRecord(r).problems, /^the record's month "2026-05" is not the inputs' month "2026-04"$/);
  });
});

describe('verifyAssemblyRecord: what is not a record', () => {
  for (const [what, value] of [
    ['null', null],
    ['an array', []],
    ['a string', 'record'],
  ] as const) {
    it(what, () => assert.deepEqual(verifyAssemblyRecord(value), { ok: false, problems: ['the record is not a JSON object'], recomputed: null, sha256: null }));
  }
  it('an object without inputs', () => {
    const check = verifyAssemblyRecord({ format: 'orquestra.assembly-record/1' });
    assert.equal(check.ok, false);
    has(check.problems, /^the record has no inputs to recompute from$/);
  });
  it('inputs the rule module refuses', () => {
    const r = tampered((x) => {
      x.inputs.extraction.prizes = ['1234'];
      x.lottery.prizes = ['1234'];
    });
    has(verifyAssemblyRecord(r).problems, /^the inputs cannot be recomputed: the Loteria Federal has five prizes$/);
  });
  it('another format', () => {
    const r = tampered((x) => {
      (x as { format: string }).format = 'orquestra.assembly-record/0';
    });
    has(verifyAssemblyRecord(r).problems, /^unknown format "orquestra.assembly-record\/0"$/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffSeconds, mergeReplies, nextSendAt, PER_CUSTOMER_INTERVAL_MS } from '../../domain/pacing';

const NOW = Date.UTC(2026, 10, 23, 12, 0);

describe('pacing', () => {
  const sends: [string, number | null, number, number | undefined, number][] = [
    ['never sent: now', null, NOW, undefined, NOW],
    ['sent 1 s ago: 5 s from now', NOW - 1000, NOW, undefined, NOW + 5000],
    ['sent exactly 6 s ago: now', NOW - PER_CUSTOMER_INTERVAL_MS, NOW, undefined, NOW],
    ['sent a minute ago: now', NOW - 60_000, NOW, undefined, NOW],
    ['custom interval', NOW - 1000, NOW, 10_000, NOW + 9000],
    ['last send in the future (queued): after it', NOW + 2000, NOW, undefined, NOW + 8000],
  ];
  for (const [name, last, now, interval, expected] of sends) it(`next send: ${name}`, () => assert.equal(nextSendAt(last, now, interval), expected));

  const merges: [string, string[], number | undefined, string[]][] = [
    ['nothing', [], undefined, []],
    ['one reply', ['Olá!'], undefined, ['Olá!']],
    ['two short replies become one', ['Olá!', 'Como posso ajudar?'], undefined, ['Olá!\n\nComo posso ajudar?']],
    ['blank replies are dropped, ends trimmed', ['  Oi  ', '', '   ', 'Tudo bem?\n'], undefined, ['Oi\n\nTudo bem?']],
    ['exactly at the limit (3 + 2 + 5 = 10)', ['abc', 'defgh'], 10, ['abc\n\ndefgh']],
    ['one over the limit: two messages', ['abc', 'defghi'], 10, ['abc', 'defghi']],
    ['greedy and ordered', ['aaaa', 'bbbb', 'cc', 'dddddddd'], 10, ['aaaa\n\nbbbb', 'cc', 'dddddddd']],
    ['long text split at the last whitespace', ['um dois tres quatro'], 10, ['um dois', 'tres', 'quatro']],
    ['whitespace right at the limit', ['0123456789 abc'], 10, ['0123456789', 'abc']],
    ['a word longer than the limit is cut hard', ['abcdefghijklmnop'], 10, ['abcdefghij', 'klmnop']],
    ['a surrogate pair is never cut', ['aaaaaaaaa😀b'], 10, ['aaaaaaaaa', '😀b']],
    ['split remainder merges with the next reply', ['um dois tres', 'x'], 10, ['um dois', 'tres\n\nx']],
    ['newlines count as whitespace', ['linha um\nlinha dois'], 10, ['linha um', 'linha dois']],
  ];
  for (const [name, texts, max, expected] of merges) it(`merge: ${name}`, () => assert.deepEqual(mergeReplies(texts, max), expected));

  it('merge: defaults to WhatsApp’s 4096-character body', () => {
    const parts = mergeReplies([`${'a'.repeat(4000)} ${'b'.repeat(200)}`, 'c'.repeat(100)]);
    assert.deepEqual(
      parts.map((p) => p.length),
      [4000, 200 + 2 + 100],
    );
    assert.ok(parts.every((p) => p.length <= 4096));
  });

  it('merge: refuses a non-positive limit', () => assert.throws(() => mergeReplies(['a'], 0), RangeError));

  const backoffs: [number, number][] = [
    [0, 1],
    [1, 4],
    [2, 16],
    [3, 64],
    [4, 256],
    [5, 900], // 1024 capped at 15 min
    [20, 900],
    [-1, 1],
    [Infinity, 900],
    [NaN, 1],
  ];
  for (const [attempt, expected] of backoffs) it(`backoff after attempt ${attempt}: ${expected} s`, () => assert.equal(backoffSeconds(attempt), expected));
});

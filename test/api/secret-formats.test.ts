import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatApiKey, formatRefreshToken, newSecret, parseApiKey, parseRefreshToken, sameHash, sha256 } from '../../api/auth/secrets';
import { SecretBox } from '../../infra/secret-box';

describe('token and key formats', () => {
  const id = '0d6c1f1e-8c1a-4b7e-9f3a-2b4c6d8e0f12';

  it('an API key round-trips to its id and secret', () => {
    const secret = newSecret();
    const key = formatApiKey(id, secret);
    assert.match(key, /^orq_0d6c1f1e8c1a4b7e9f3a2b4c6d8e0f12_/);
    assert.deepEqual(parseApiKey(key), { id, secret });
  });

  const badKeys = ['', 'orq_', `orq_${'g'.repeat(32)}_${'a'.repeat(43)}`, `orq_${'a'.repeat(31)}_${'a'.repeat(43)}`, `orq_${'a'.repeat(32)}_${'a'.repeat(42)}`, `xyz_${'a'.repeat(32)}_${'a'.repeat(43)}`];
  for (const k of badKeys) it(`refuses API key ${JSON.stringify(k.slice(0, 20))}…`, () => assert.equal(parseApiKey(k), null));

  it('a refresh token round-trips; malformed ones are refused', () => {
    assert.deepEqual(parseRefreshToken(formatRefreshToken(id, 'abc')), { id, secret: 'abc' });
    for (const t of ['', 'abc', `${id}.`, `not-a-uuid.abc`, `${id}.abc.def`]) assert.equal(parseRefreshToken(t), null, t);
  });

  it('compares hashes in constant time and only equal ones match', () => {
    assert.equal(sameHash(sha256('a'), sha256('a')), true);
    assert.equal(sameHash(sha256('a'), sha256('b')), false);
    assert.equal(sameHash(sha256('a'), 'abcd'), false);
  });

  it('seals secrets with AES-256-GCM: fresh IV each time, tampering detected', () => {
    const box = new SecretBox(Buffer.alloc(32, 7).toString('base64'));
    const a = box.seal('EAAG-token');
    const b = box.seal('EAAG-token');
    assert.notEqual(a, b);
    assert.equal(box.open(a), 'EAAG-token');
    const parts = a.split('.');
    parts[3] = Buffer.from('EAAG-tokeX').toString('base64url');
    assert.throws(() => box.open(parts.join('.')));
    assert.throws(() => new SecretBox(Buffer.alloc(32, 8).toString('base64')).open(a));
  });
});

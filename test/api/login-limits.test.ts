import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { withTenant } from '../../db/tenant-scope';
import { HashingGate, hashPassword, PasswordCheckBusy, verifyPassword } from '../../infra/passwords';
import { addUser, provisionTenant, superAdmin, uid, type TenantFixture } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';

// Every request of this file reaches the API straight from 127.0.0.1; with TRUST_PROXY and one
// trusted hop, the last X-Forwarded-For entry plays the address our load balancer would append.
const LIMITS = {
  TRUST_PROXY: 'true',
  TRUST_PROXY_HOPS: '1',
  RATE_LIMIT_LOGIN_IP_POINTS: '4',
  RATE_LIMIT_LOGIN_ACCOUNT_FREE_FAILURES: '3',
  RATE_LIMIT_LOGIN_ACCOUNT_BACKOFF_SECONDS: '2',
  RATE_LIMIT_LOGIN_ACCOUNT_MAX_BACKOFF_SECONDS: '8',
};

let ipSeq = 0;
const freshIp = () => `198.51.100.${++ipSeq % 250}`;

describe('login limits', () => {
  let stack: TestStack;
  let tenant: TenantFixture;

  before(async () => {
    stack = await startStack({ env: LIMITS });
    const root = await superAdmin(stack);
    tenant = await provisionTenant(stack, root.token);
  });
  after(() => stack.stop());

  const attempt = (email: string, password: string, forwardedFor: string) =>
    stack.api.post('/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': forwardedFor } });

  it('backs an account off after consecutive failures from any IPs, doubling the wait, until a success', async () => {
    const user = await addUser(stack, tenant, 'ATTENDANT');
    for (let i = 0; i < 3; i++) assert.equal((await attempt(user.email, `errada-${i}-senha`, freshIp())).status, 401);

    // The right password from yet another address is refused too while the account backs off.
    const first = await attempt(user.email, user.password, freshIp());
    assert.equal(first.status, 429, JSON.stringify(first.body));
    assert.equal(first.headers.get('content-type'), 'application/problem+json');
    assert.match(first.body.detail, /nesta conta/);
    const firstWait = Number(first.headers.get('retry-after'));
    assert.ok(firstWait >= 1 && firstWait <= 2, `Retry-After ${firstWait}`);

    await sleep(2_100);
    assert.equal((await attempt(user.email, 'mais-uma-errada', freshIp())).status, 401, 'once the block is over a guess is checked again');
    const second = await attempt(user.email, user.password, freshIp());
    assert.equal(second.status, 429);
    const secondWait = Number(second.headers.get('retry-after'));
    assert.ok(secondWait >= 3 && secondWait <= 4, `the next failure doubles the wait: Retry-After ${secondWait}`);

    await sleep(4_100);
    assert.equal((await attempt(user.email, user.password, freshIp())).status, 200);
    // The success forgot the failures: one more mistake does not block.
    assert.equal((await attempt(user.email, 'errada-de-novo', freshIp())).status, 401);
    assert.equal((await attempt(user.email, user.password, freshIp())).status, 200);
  });

  it('backs an unknown e-mail off exactly like an account, so the limit does not reveal which exist', async () => {
    const nobody = `ninguem-${uid()}@example.com.br`;
    for (let i = 0; i < 3; i++) assert.equal((await attempt(nobody, `errada-${i}-senha`, freshIp())).status, 401);
    const blocked = await attempt(nobody, 'qualquer-senha', freshIp());
    assert.equal(blocked.status, 429);
    assert.match(blocked.body.detail, /nesta conta/);
  });

  it('limits failures per IP across accounts; successes from it do not count', async () => {
    const user = await addUser(stack, tenant, 'SALES');
    const office = freshIp();
    for (let i = 0; i < 6; i++) assert.equal((await attempt(user.email, user.password, office)).status, 200, 'successes are given back');
    for (let i = 0; i < 4; i++) assert.equal((await attempt(`spray-${uid()}@example.com.br`, 'senha-chutada', office)).status, 401);
    const blocked = await attempt(user.email, user.password, office);
    assert.equal(blocked.status, 429);
    assert.match(blocked.body.detail, /deste endereço/);
    assert.ok(Number(blocked.headers.get('retry-after')) > 800, 'for the rest of the 15-minute window');
    assert.equal((await attempt(user.email, user.password, freshIp())).status, 200, 'other addresses are not affected');
  });

  it('trusts only the hops configured: a client-sent X-Forwarded-For entry neither names its address nor escapes the IP limit', async () => {
    const user = await addUser(stack, tenant, 'FINANCE');
    const ok = await attempt(user.email, user.password, '1.2.3.4, 5.6.7.8');
    assert.equal(ok.status, 200);
    const audit = await withTenant(stack.deps.knex, tenant.tenantId, (trx) =>
      trx('audit_events').where({ action: 'auth.login', entity_id: user.id }).orderBy('id', 'desc').first(),
    );
    assert.equal(audit.details.ip, '5.6.7.8', 'the address the trusted proxy appended');

    for (let i = 0; i < 4; i++) {
      const res = await attempt(`rotate-${uid()}@example.com.br`, 'senha-chutada', `10.9.${i}.${i + 1}, 5.6.7.9`);
      assert.equal(res.status, 401);
    }
    const rotated = await attempt(`rotate-${uid()}@example.com.br`, 'senha-chutada', '10.200.0.1, 5.6.7.9');
    assert.equal(rotated.status, 429, 'a new first entry is still 5.6.7.9');
    assert.match(rotated.body.detail, /deste endereço/);
  });
  it('refuses logins past the platform-wide rate, known or unknown e-mails alike, before any hashing', async () => {
    // An API of its own (same database), so the minute's count is this test's alone.
    const flooded = await startStack({ worker: false, env: { ...LIMITS, RATE_LIMIT_LOGIN_GLOBAL_PER_MINUTE: '5' } });
    try {
      const post = (email: string, password: string) =>
        flooded.api.post('/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': freshIp() } });
      for (let i = 0; i < 5; i++) assert.equal((await post(`flood-${uid()}@example.com.br`, 'senha-chutada')).status, 401);
      for (const [email, password] of [[`flood-${uid()}@example.com.br`, 'senha-chutada'], [tenant.admin.email, tenant.admin.password]] as const) {
        const res = await post(email, password);
        assert.equal(res.status, 429, `${email}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.detail, /sobrecarregado/);
        assert.ok(Number(res.headers.get('retry-after')) >= 1);
      }
    } finally {
      await flooded.stop();
    }
  });
});

describe('the password hashing gate', () => {
  it('runs at most `concurrency` Argon2 checks at once and turns away what would wait past the queue', async () => {
    const hash = await hashPassword('senha-correta-123');
    const gate = new HashingGate(1, 1);
    const running = verifyPassword(hash, 'senha-correta-123', { gate });
    const waiting = verifyPassword(null, 'desconhecido', { gate });
    const refused = verifyPassword(hash, 'outra', { gate });
    const refusedUnknown = verifyPassword(null, 'e-mail desconhecido', { gate });
    assert.deepEqual(gate.load, { running: 1, waiting: 1 });
    await assert.rejects(refused, PasswordCheckBusy);
    await assert.rejects(refusedUnknown, PasswordCheckBusy, 'unknown e-mails queue the same way');
    assert.deepEqual(await Promise.all([running, waiting]), [true, false]);
    assert.deepEqual(gate.load, { running: 0, waiting: 0 });
    assert.equal(await verifyPassword(hash, 'senha-correta-123', { gate }), true, 'free again');
  });
});

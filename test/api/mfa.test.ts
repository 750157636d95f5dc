import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensurePlatformAdmin } from '../../db/platform-admin';
import { withPlatform, withTenant } from '../../db/tenant-scope';
import { totpCode, TOTP_PERIOD_MS } from '../../infra/totp';
import { addUser, loginMfa, provisionTenant, superAdmin, uid, type TenantFixture } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';

// Staff TOTP (issue 11): enrolment, the login's second step, wrong and replayed codes, recovery
// codes, the tenant setting that requires MFA for roles, and SUPER_ADMIN always challenged.
describe('staff MFA (TOTP)', () => {
  let stack: TestStack;
  let tenant: TenantFixture;
  let root: Awaited<ReturnType<typeof superAdmin>>;
  // Per account 8 codes per window here, so the per-challenge limit (5) is seen on its own first.
  const ACCOUNT_POINTS = 8;

  before(async () => {
    stack = await startStack({ env: { RATE_LIMIT_MFA_POINTS: String(ACCOUNT_POINTS) } });
    root = await superAdmin(stack);
    tenant = await provisionTenant(stack, root.token);
  });
  after(() => stack.stop());

  type Person = { id: string; email: string; password: string; token: string };
  const post = (path: string, body?: unknown, token?: string) => stack.api.post(path, { body, token });
  const passwordLogin = (p: { email: string; password: string }) => post('/api/auth/login', { email: p.email, password: p.password });
  const audits = (userId: string) =>
    withTenant(stack.deps.knex, tenant.tenantId, (trx) => trx('audit_events').where({ entityId: userId }).orderBy('id').select('action', 'details'));
  const mfaRow = (userId: string, tenantId: string | null = tenant.tenantId) =>
    tenantId ? withTenant(stack.deps.knex, tenantId, (trx) => trx('user_mfa').where({ userId }).first()) : withPlatform(stack.deps.knex, (trx) => trx('user_mfa').where({ userId }).first());
  // A 6-digit string that is no code of this secret anywhere near now.
  const wrongCode = (secret: string) => {
    const near = new Set([-2, -1, 0, 1, 2].map((k) => totpCode(secret, Date.now() + k * TOTP_PERIOD_MS)));
    for (let i = 0; ; i++) if (!near.has(String(i).padStart(6, '0'))) return String(i).padStart(6, '0');
  };
  // The next time step's code: the server's window takes it, and it is newer than any used so far.
  const nextCode = (secret: string) => totpCode(secret, Date.now() + TOTP_PERIOD_MS);

  // Enrols through the API as the signed-in user; returns the secret and the recovery codes.
  async function enrol(p: Person) {
    const started = await post('/api/auth/mfa/enrol', undefined, p.token);
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const confirmed = await post('/api/auth/mfa/confirm', { code: totpCode(started.body.secret) }, p.token);
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    return { secret: started.body.secret as string, recoveryCodes: confirmed.body.recoveryCodes as string[], started: started.body };
  }

  it('enrols with an otpauth URI and a QR code; the secret is sealed, shown once, and the recovery codes once', async () => {
    const user: Person = await addUser(stack, tenant, 'ATTENDANT');
    const started = await post('/api/auth/mfa/enrol', undefined, user.token);
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const { secret, otpauthUri, qrCode } = started.body;
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const uri = new URL(otpauthUri);
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), `/Orquestra:${user.email}`);
    assert.equal(uri.searchParams.get('issuer'), 'Orquestra');
    assert.equal(uri.searchParams.get('secret'), secret);
    assert.match(qrCode, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    assert.ok(Buffer.from(qrCode.split(',')[1], 'base64').subarray(1, 4).toString() === 'PNG');

    const pending = await mfaRow(user.id);
    assert.match(pending.pendingSecretSealed, /^v1\./);
    assert.ok(!JSON.stringify(pending).includes(secret), 'the secret is stored sealed');
    assert.equal(stack.deps.secrets.open(pending.pendingSecretSealed), secret);
    assert.equal(pending.secretSealed, null, 'not active before a first code');

    const wrong = await post('/api/auth/mfa/confirm', { code: wrongCode(secret) }, user.token);
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.detail, 'Código de verificação inválido.');
    assert.equal((await mfaRow(user.id)).secretSealed, null, 'a wrong code changes nothing');

    const confirmed = await post('/api/auth/mfa/confirm', { code: totpCode(secret) }, user.token);
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    const codes: string[] = confirmed.body.recoveryCodes;
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const c of codes) assert.match(c, /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
    const active = await mfaRow(user.id);
    assert.equal(active.recoveryCodeHashes.length, 10);
    for (const c of codes) assert.ok(!JSON.stringify(active).includes(c.replace(/-/g, '')) && !JSON.stringify(active).includes(c), 'recovery codes are stored hashed');

    // Never again: not in the status, not from a second enrolment, not from a second confirmation.
    const status = await stack.api.get('/api/auth/mfa', { token: user.token });
    assert.equal(status.status, 200);
    assert.deepEqual(Object.keys(status.body).sort(), ['enabled', 'enabledAt', 'enrolmentPending', 'recoveryCodesRemaining', 'required']);
    assert.equal(status.body.enabled, true);
    assert.equal(status.body.recoveryCodesRemaining, 10);
    assert.ok(!JSON.stringify(status.body).includes(secret));
    const again = await post('/api/auth/mfa/enrol', undefined, user.token);
    assert.equal(again.status, 409);
    assert.ok(!JSON.stringify(again.body).includes(secret));
    assert.equal((await post('/api/auth/mfa/confirm', { code: nextCode(secret) }, user.token)).status, 409);

    const actions = (await audits(user.id)).map((a) => a.action);
    assert.ok(actions.includes('auth.mfa.enrolment_started') && actions.includes('auth.mfa.enabled'), actions.join(', '));
  });

  it('asks for a code after the password, opens the session with it, and refuses a replayed code and a reused challenge', async () => {
    const user: Person = await addUser(stack, tenant, 'SALES');
    const { secret, recoveryCodes } = await enrol(user);

    const first = await passwordLogin(user);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.mfaRequired, true);
    assert.equal(first.body.enrolmentRequired, false);
    assert.equal(first.body.accessToken, undefined, 'no session before the code');
    assert.equal(first.body.refreshToken, undefined);
    assert.equal((await stack.api.get('/api/me', { token: first.body.challengeToken })).status, 401, 'a challenge is not an access token');

    // The confirmation spent this step's code: the next step's is the one to give.
    const code = nextCode(secret);
    const done = await post('/api/auth/login/mfa', { challengeToken: first.body.challengeToken, code });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.user.id, user.id);
    assert.equal(done.body.recoveryCodes, undefined);
    const me = await stack.api.get('/api/me', { token: done.body.accessToken });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, user.id);
    const login = (await audits(user.id)).filter((a) => a.action === 'auth.login').at(-1);
    assert.equal(login?.details.mfa, 'totp');

    // The same code again, with a new challenge: refused, whatever the clock says now.
    const second = await passwordLogin(user);
    const replay = await post('/api/auth/login/mfa', { challengeToken: second.body.challengeToken, code });
    assert.equal(replay.status, 401);
    assert.equal(replay.body.detail, 'Código de verificação inválido.');

    // The first challenge opened a session already: it opens no second one, even with a good
    // recovery code, and that code is not spent by the refusal.
    const reused = await post('/api/auth/login/mfa', { challengeToken: first.body.challengeToken, recoveryCode: recoveryCodes[0] });
    assert.equal(reused.status, 401);
    assert.match(reused.body.detail, /já foi usada/);
    const withRecovery = await post('/api/auth/login/mfa', { challengeToken: second.body.challengeToken, recoveryCode: recoveryCodes[0] });
    assert.equal(withRecovery.status, 200, JSON.stringify(withRecovery.body));

    // A forged or garbled challenge is a 401 too.
    const [h, p, s] = (first.body.challengeToken as string).split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: tenant.admin.id })).toString('base64url')}.${s}`;
    for (const challengeToken of [forged, 'not-a-token', done.body.accessToken]) {
      assert.equal((await post('/api/auth/login/mfa', { challengeToken, code: nextCode(secret) })).status, 401, challengeToken.slice(0, 20));
    }
  });

  it('refuses a wrong code with a 401 in Portuguese, and limits codes per challenge and per account', async () => {
    const user: Person = await addUser(stack, tenant, 'ATTENDANT');
    const { secret } = await enrol(user);

    const challenge = (await passwordLogin(user)).body.challengeToken;
    for (let i = 0; i < 5; i++) {
      const res = await post('/api/auth/login/mfa', { challengeToken: challenge, code: wrongCode(secret) });
      assert.equal(res.status, 401, JSON.stringify(res.body));
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.equal(res.body.detail, 'Código de verificação inválido.');
    }
    // Five on one challenge: even the right code is refused on it; the password must come again.
    const spent = await post('/api/auth/login/mfa', { challengeToken: challenge, code: nextCode(secret) });
    assert.equal(spent.status, 429, JSON.stringify(spent.body));
    assert.match(spent.body.detail, /Faça login novamente/);
    assert.ok(Number(spent.headers.get('retry-after')) > 0);

    // A new challenge has its own five, but the account has only ACCOUNT_POINTS in the window.
    const fresh = (await passwordLogin(user)).body.challengeToken;
    const left = ACCOUNT_POINTS - 6;
    for (let i = 0; i < left; i++) {
      assert.equal((await post('/api/auth/login/mfa', { challengeToken: fresh, code: wrongCode(secret) })).status, 401);
    }
    const blocked = await post('/api/auth/login/mfa', { challengeToken: fresh, code: nextCode(secret) });
    assert.equal(blocked.status, 429, JSON.stringify(blocked.body));
    assert.match(blocked.body.detail, /Aguarde alguns minutos/);
    const retryAfter = Number(blocked.headers.get('retry-after'));
    assert.ok(retryAfter > 800 && retryAfter <= 900, `Retry-After ${retryAfter}`);
    // Nothing was opened for the user by any of it.
    assert.ok(!(await audits(user.id)).some((a) => a.action === 'auth.login' && a.details.mfa));
  });

  it('accepts each recovery code once, in any case and without dashes, and replaces them on request', async () => {
    const user: Person = await addUser(stack, tenant, 'MANAGER');
    const { secret, recoveryCodes } = await enrol(user);
    const [firstCode, secondCode] = recoveryCodes as [string, string];

    const typed = firstCode.replace(/-/g, '').toLowerCase();
    const used = await post('/api/auth/login/mfa', { challengeToken: (await passwordLogin(user)).body.challengeToken, recoveryCode: typed });
    assert.equal(used.status, 200, JSON.stringify(used.body));
    const events = await audits(user.id);
    assert.deepEqual(events.find((a) => a.action === 'auth.mfa.recovery_code_used')?.details, { remaining: 9 });
    assert.equal(events.filter((a) => a.action === 'auth.login').at(-1)?.details.mfa, 'recovery_code');

    const again = await post('/api/auth/login/mfa', { challengeToken: (await passwordLogin(user)).body.challengeToken, recoveryCode: firstCode });
    assert.equal(again.status, 401);
    assert.equal(again.body.detail, 'Código de recuperação inválido ou já utilizado.');
    assert.equal((await stack.api.get('/api/auth/mfa', { token: used.body.accessToken })).body.recoveryCodesRemaining, 9);

    // New codes need a current TOTP code; the old ones stop working.
    assert.equal((await post('/api/auth/mfa/recovery-codes', { code: wrongCode(secret) }, used.body.accessToken)).status, 403);
    const replaced = await post('/api/auth/mfa/recovery-codes', { code: nextCode(secret) }, used.body.accessToken);
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    assert.equal(replaced.body.recoveryCodes.length, 10);
    const old = await post('/api/auth/login/mfa', { challengeToken: (await passwordLogin(user)).body.challengeToken, recoveryCode: secondCode });
    assert.equal(old.status, 401);
    const fresh = await post('/api/auth/login/mfa', { challengeToken: (await passwordLogin(user)).body.challengeToken, recoveryCode: replaced.body.recoveryCodes[0] });
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    assert.ok((await audits(user.id)).some((a) => a.action === 'auth.mfa.recovery_codes_regenerated'));

    // Turning it off takes the password (or a code); then the password alone logs in.
    const wrongPassword = await post('/api/auth/mfa/disable', { password: 'not-the-password' }, fresh.body.accessToken);
    assert.equal(wrongPassword.status, 403);
    assert.equal(wrongPassword.body.detail, 'Senha incorreta.');
    assert.equal((await post('/api/auth/mfa/disable', { password: user.password }, fresh.body.accessToken)).status, 204);
    assert.equal(await mfaRow(user.id), undefined);
    const plain = await passwordLogin(user);
    assert.equal(plain.status, 200);
    assert.ok(plain.body.accessToken, 'no challenge once MFA is off');
    assert.ok((await audits(user.id)).some((a) => a.action === 'auth.mfa.disabled'));
  });

  it('a tenant admin turns off another person’s TOTP (lost phone): their sessions end, the password alone logs in again', async () => {
    const user: Person = await addUser(stack, tenant, 'ATTENDANT');
    await enrol(user);
    assert.equal((await passwordLogin(user)).body.mfaRequired, true);
    const manager: Person = await addUser(stack, tenant, 'MANAGER');
    assert.equal((await post(`/api/users/${user.id}/mfa/reset`, undefined, manager.token)).status, 403, 'only a tenant admin');
    const own = await post(`/api/users/${tenant.admin.id}/mfa/reset`, undefined, tenant.admin.token);
    assert.equal(own.status, 409);
    assert.match(own.body.detail, /própria conta/);
    assert.equal((await post(`/api/users/${crypto.randomUUID()}/mfa/reset`, undefined, tenant.admin.token)).status, 404);

    const reset = await post(`/api/users/${user.id}/mfa/reset`, undefined, tenant.admin.token);
    assert.equal(reset.status, 200, JSON.stringify(reset.body));
    assert.deepEqual(reset.body, { mfaWasOn: true });
    assert.equal(await mfaRow(user.id), undefined, 'the secret and the recovery codes are gone');
    assert.equal((await stack.api.get('/api/me', { token: user.token })).status, 401, 'their sessions ended');
    const login = await passwordLogin(user);
    assert.equal(login.status, 200);
    assert.ok(login.body.accessToken, 'no code asked any more');
    assert.deepEqual((await post(`/api/users/${user.id}/mfa/reset`, undefined, tenant.admin.token)).body, { mfaWasOn: false });
    const actions = (await audits(user.id)).map((a) => a.action);
    assert.equal(actions.filter((a) => a === 'auth.mfa.reset').length, 1, actions.join(', '));
  });

  it('forces enrolment at login on the roles the tenant requires MFA for', async () => {
    const finance: Person = await addUser(stack, tenant, 'FINANCE');
    const invalid = await stack.api.patch('/api/settings', { token: tenant.admin.token, body: { security: { mfaRequiredRoles: ['SUPER_ADMIN'] } } });
    assert.equal(invalid.status, 400);
    assert.match(invalid.body.errors[0].path, /^body\.security\.mfaRequiredRoles/);
    assert.equal((await stack.api.get('/api/me', { token: finance.token })).status, 200);
    const set = await stack.api.patch('/api/settings', { token: tenant.admin.token, body: { security: { mfaRequiredRoles: ['FINANCE'] } } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body.security, { mfaRequiredRoles: ['FINANCE'] });
    // The session opened with a password alone ends: the next login goes through enrolment.
    assert.equal((await stack.api.get('/api/me', { token: finance.token })).status, 401);
    assert.equal((await stack.api.get('/api/me', { token: tenant.admin.token })).status, 200, 'other roles keep theirs');
    try {
      const challenge = await passwordLogin(finance);
      assert.equal(challenge.status, 200);
      assert.deepEqual([challenge.body.mfaRequired, challenge.body.enrolmentRequired, challenge.body.accessToken], [true, true, undefined]);
      const token = challenge.body.challengeToken;
      // It opens the enrolment, nothing else.
      assert.equal((await stack.api.get('/api/me', { token })).status, 401);
      assert.equal((await post('/api/auth/mfa/enrol', undefined, token)).status, 401);
      const early = await post('/api/auth/login/mfa', { challengeToken: token, code: '123456' });
      assert.equal(early.status, 409, 'no code before there is a secret');

      const enrolment = await post('/api/auth/login/mfa/enrol', { challengeToken: token });
      assert.equal(enrolment.status, 200, JSON.stringify(enrolment.body));
      assert.match(enrolment.body.otpauthUri, /^otpauth:\/\/totp\//);
      assert.match(enrolment.body.qrCode, /^data:image\/png;base64,/);
      assert.equal((await post('/api/auth/login/mfa', { challengeToken: token, code: wrongCode(enrolment.body.secret) })).status, 401);
      const done = await post('/api/auth/login/mfa', { challengeToken: token, code: totpCode(enrolment.body.secret) });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.recoveryCodes.length, 10, 'the recovery codes come with the login that finished the enrolment');
      assert.equal((await stack.api.get('/api/me', { token: done.body.accessToken })).body.id, finance.id);

      // From now on an ordinary challenge; and it cannot be turned off while the role requires it.
      const next = await passwordLogin(finance);
      assert.equal(next.body.enrolmentRequired, false);
      assert.equal((await post('/api/auth/login/mfa/enrol', { challengeToken: next.body.challengeToken })).status, 409);
      const off = await post('/api/auth/mfa/disable', { password: finance.password }, done.body.accessToken);
      assert.equal(off.status, 409);
      assert.match(off.body.detail, /obrigatória/);
      assert.equal((await stack.api.get('/api/auth/mfa', { token: done.body.accessToken })).body.required, true);

      // Other roles of the tenant are not asked.
      const admin = await passwordLogin(tenant.admin);
      assert.ok(admin.body.accessToken);
    } finally {
      const reset = await stack.api.patch('/api/settings', { token: tenant.admin.token, body: { security: { mfaRequiredRoles: [] } } });
      assert.equal(reset.status, 200);
    }
  });

  it('always challenges SUPER_ADMIN: the bootstrap enrols its secret, and one without a secret must enrol', async () => {
    const challenge = await passwordLogin(root);
    assert.equal(challenge.body.mfaRequired, true);
    assert.equal(challenge.body.enrolmentRequired, false);
    const session = await loginMfa(stack, challenge.body.challengeToken, root.totpSecret);
    assert.equal((await stack.api.get('/api/auth/mfa', { token: session.accessToken })).body.required, true);
    const off = await post('/api/auth/mfa/disable', { password: root.password }, session.accessToken);
    assert.equal(off.status, 409);
    assert.ok((await mfaRow(root.id, null)).secretSealed.startsWith('v1.'), 'the bootstrap seals the secret');

    const bare = { email: `root-${uid()}@orquestra.test`, password: `senha-forte-${uid()}` };
    await ensurePlatformAdmin(stack.deps.knex, bare);
    const forced = await passwordLogin(bare);
    assert.equal(forced.status, 200);
    assert.deepEqual([forced.body.mfaRequired, forced.body.enrolmentRequired, forced.body.accessToken], [true, true, undefined]);
    // Given a secret later (PLATFORM_ADMIN_TOTP_SECRET on the next start), it is enrolled with it.
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    await ensurePlatformAdmin(stack.deps.knex, { ...bare, totpSecret: secret }, stack.deps.secrets);
    const enrolled = await passwordLogin(bare);
    assert.equal(enrolled.body.enrolmentRequired, false);
    assert.equal((await loginMfa(stack, enrolled.body.challengeToken, secret)).user.tenantId, null);
  });
});

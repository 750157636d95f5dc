import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import Redis from 'ioredis';
import type { Knex } from 'knex';
import { ensurePlatformAdmin } from '../../../db/platform-admin';
import { sha256Signature } from '../../../infra/hmac-signature';
import { totpCode } from '../../../infra/totp';
import { metaEnvelope, textMessage } from '../../../test/fakes/meta-payloads';
import { guestText, warmPhone } from './load';
import type { Options } from './options';
import { ROOT } from './processes';
import type { ReplyBook } from './replies';
import { sleep } from './stats';

// Set-up: an environment of the run's own, the tenant under load, a warm-up, and what to undo.

const WARMUP_GUESTS = 10;

// Everything isolated, nothing read from a developer's .env-like settings.
export function isolatedEnv(o: Options, runId: string, workDir: string, redisUrl: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(DATABASE_(URL|OWNER_URL)|TEMPORAL_|OPENAI_|WHATSAPP_|(WORKER_)?METRICS_|REDIS_KEY_PREFIX|PORT$|HOST$)/.test(k)) delete env[k];
  }
  Object.assign(env, {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    DATABASE_NAME: process.env.BENCH_DATABASE_NAME || 'orquestra_bench', // recreated by every run
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `orq-bench-${runId}:`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    WHATSAPP_APP_SECRET: randomBytes(24).toString('hex'),
    WHATSAPP_VERIFY_TOKEN: randomBytes(16).toString('hex'),
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: 'orquestra',
    MEDIA_DIR: join(workDir, 'media'),
  });
  if (o.pacingMs !== undefined) env.WHATSAPP_PER_CUSTOMER_INTERVAL_MS = String(o.pacingMs);
  if (o.numberMps !== undefined) env.WHATSAPP_NUMBER_MESSAGES_PER_SECOND = String(o.numberMps);
  return env;
}

// Which code ran: git HEAD (and whether the tree had changes), and a hash of the product sources
// the API and worker load (tsx compiles them at start-up, so a process restarted during a run
// picks up whatever the files hold at that moment).
export function gitState(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head} + uncommitted changes in ${dirty.split('\n').length} file(s)` : head;
  } catch {
    return 'unknown (no git)';
  }
}

export function sourceFingerprint(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) hash.update(path).update(readFileSync(path));
    }
  };
  for (const dir of ['api', 'activities', 'workflows', 'workers', 'db', 'domain', 'infra', 'scripts/sandbox', 'test/fakes']) walk(join(ROOT, dir));
  return hash.digest('hex').slice(0, 12);
}


async function postJson(url: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

export async function provisionTenant(knex: Knex, client: Client, apiUrl: string, runId: string, number: { phoneNumberId: string; wabaId: string; accessToken: string }): Promise<string> {
  const root = { email: `bench-root-${runId}@orquestra.local`, password: `senha-bench-${randomBytes(8).toString('hex')}` };
  await ensurePlatformAdmin(knex, root);
  const login = await postJson(`${apiUrl}/api/auth/login`, root);
  if (login.status !== 200) throw new Error(`platform admin login failed: ${login.status} ${JSON.stringify(login.body)}`);
  // SUPER_ADMIN always has TOTP: this fresh one enrols at its first login, as any would.
  if (login.body.mfaRequired) {
    const challengeToken = login.body.challengeToken;
    const enrolment = await postJson(`${apiUrl}/api/auth/login/mfa/enrol`, { challengeToken });
    if (enrolment.status !== 200) throw new Error(`platform admin TOTP enrolment failed: ${enrolment.status} ${JSON.stringify(enrolment.body)}`);
    const done = await postJson(`${apiUrl}/api/auth/login/mfa`, { challengeToken, code: totpCode(enrolment.body.secret as string) });
    if (done.status !== 200) throw new Error(`platform admin TOTP step failed: ${done.status} ${JSON.stringify(done.body)}`);
    login.body.accessToken = done.body.accessToken;
  }
  const slug = `bench-${runId}`;
  const created = await postJson(
    `${apiUrl}/api/tenants`,
    {
      name: `Pousada Benchmark ${runId}`,
      slug,
      admin: { name: 'Administradora Benchmark', email: `admin-${slug}@example.com.br`, password: `senha-${randomBytes(8).toString('hex')}` },
      whatsapp: { phoneNumberId: number.phoneNumberId, wabaId: number.wabaId, accessToken: number.accessToken },
    },
    login.body.accessToken as string,
  );
  if (created.status !== 202) throw new Error(`tenant not accepted: ${created.status} ${JSON.stringify(created.body)}`);
  const handle = client.workflow.getHandle(created.body.workflowId as string);
  await Promise.race([
    handle.result(),
    sleep(120_000).then(() => {
      throw new Error('provisioning did not finish within 2 minutes');
    }),
  ]);
  return created.body.tenantId as string;
}

export async function warmUp(o: Options, apiUrl: string, appSecret: string, number: { phoneNumberId: string; wabaId: string }, replies: ReplyBook) {
  const guests = Array.from({ length: WARMUP_GUESTS }, (_, i) => i);
  await Promise.all(
    guests.map(async (i) => {
      const raw = JSON.stringify(
        metaEnvelope([{ wabaId: number.wabaId, phoneNumberId: number.phoneNumberId, messages: [textMessage({ from: warmPhone(i), body: guestText(`warm-${i}`) })] }]),
      );
      const res = await fetch(`${apiUrl}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': sha256Signature(raw, appSecret) },
        body: raw,
      });
      if (res.status !== 200) throw new Error(`warm-up webhook answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer().catch(() => undefined);
    }),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    replies.poll();
    const done = guests.filter((i) => replies.warmReplied(i, warmPhone(i))).length;
    if (done === guests.length) return;
    if (Date.now() > deadline) {
      throw new Error(`warm-up: only ${done}/${guests.length} guests got a reply within 60 s (ai=${o.ai}); see the worker log`);
    }
    await sleep(100);
  }
}

export async function dropRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

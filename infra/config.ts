import { z } from 'zod';
import { parseAllowList } from './outbound-guard';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const envSchema = z.object({
  NODE_ENV: z.string().default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),

  DATABASE_URL: z.string().optional(),
  DATABASE_OWNER_URL: z.string().optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().positive().default(10),
  // The app role's statement_timeout and idle_in_transaction_session_timeout (0: off); read by
  // db/database-settings.ts, validated here so a bad value stops the process at start.
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(15_000),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),

  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().default('orq:'),
  // A command Redis does not answer in time fails (503 for a request) instead of waiting forever.
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().positive().default(2_000),

  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('orquestra'),
  TEMPORAL_TLS: bool,
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_WEB_URL: z.string().optional(),

  // Prometheus metrics are for the operator's network, never the public API port: the API serves
  // them (its own plus the workers' from WORKER_METRICS_URLS) on METRICS_HOST:METRICS_PORT, and on
  // the public port only to `Authorization: Bearer <METRICS_TOKEN>` when a token is set.
  METRICS_HOST: z.string().default('127.0.0.1'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must have at least 16 characters').optional(),
  // After SIGTERM/SIGINT the API finishes the requests in flight within this, then exits 1.
  API_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(100).default(10_000),
  WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  WORKER_METRICS_URLS: z.string().default('http://127.0.0.1:9464/metrics'),
  // After SIGTERM/SIGINT the worker exits within this; npm start waits it plus a margin before SIGKILL.
  WORKER_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(1_000).default(10_000),
  // Activity slots of the worker on TEMPORAL_TASK_QUEUE (the SDK's default).
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(100),
  // Calls to endpoints tenants chose (automation URL, own AI URL) run on the queue
  // `${TEMPORAL_TASK_QUEUE}-tenant-endpoints`, with slots of their own, and at most
  // TENANT_ENDPOINT_CONCURRENCY in flight per tenant and endpoint.
  TENANT_ENDPOINT_WORKER_SLOTS: z.coerce.number().int().positive().default(20),
  TENANT_ENDPOINT_CONCURRENCY: z.coerce.number().int().positive().default(4),

  JWT_SECRET: z.string().min(32, 'JWT_SECRET must have at least 32 characters'),
  ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'ENCRYPTION_KEY must be 32 bytes, base64'),

  WHATSAPP_API_BASE_URL: z.string().url().default('https://graph.facebook.com'),
  WHATSAPP_API_VERSION: z.string().default('v23.0'),
  // The platform's Meta app (one app serving many tenants' numbers). Tenants that bring their own
  // app register it through the API and use /webhooks/whatsapp/{appId}.
  WHATSAPP_APP_SECRET: z.string().min(8).optional(),
  WHATSAPP_VERIFY_TOKEN: z.string().min(8).optional(),
  WHATSAPP_WEBHOOK_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(4 * 1024 * 1024),
  // Meta: about one message every 6 s to the same customer; 80 messages/s per number by default.
  WHATSAPP_PER_CUSTOMER_INTERVAL_MS: z.coerce.number().int().min(0).default(6000),
  WHATSAPP_NUMBER_MESSAGES_PER_SECOND: z.coerce.number().int().positive().default(80),
  // Requests with a bad signature, per IP; correctly signed deliveries from Meta are never limited.
  RATE_LIMIT_WEBHOOK_INVALID_PER_MINUTE: z.coerce.number().int().positive().default(1000),

  // The payment gateway's API host (Asaas v3). Unset: the account's environment picks Asaas's
  // production or sandbox host. The deployment decides the host, never a tenant (no SSRF).
  ASAAS_BASE_URL: z.string().url().optional(),
  ASAAS_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),

  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_MODEL: z.string().default('gpt-4o-mini'),
  OPENAI_TIMEOUT_MS: z.coerce.number().int().positive().default(20_000),
  // Models a tenant may choose while it runs on the platform's OPENAI_API_KEY (OPENAI_MODEL always
  // may): the platform pays for them. A tenant with its own key may use any model.
  OPENAI_ALLOWED_MODELS: z.string().default('gpt-4o-mini,gpt-4.1-mini,gpt-4.1-nano'),

  // URLs a tenant chooses (automation endpoint, its AI base URL) never reach loopback, private,
  // link-local (cloud metadata), CGNAT, ULA, multicast or reserved addresses (infra/outbound-guard.ts),
  // except these, comma-separated: names (`n8n.internal`, `*.corp.example`) or CIDRs (`10.0.0.0/8`),
  // for a self-hosted n8n on the private network.
  OUTBOUND_ALLOWED_HOSTS: z.string().default('').superRefine((v, ctx) => {
    try {
      parseAllowList(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
  // Whether those URLs must be https; unset: in production (NODE_ENV=production) only.
  OUTBOUND_HTTPS_ONLY: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1')),
  // Hosts WhatsApp media is downloaded from (https), besides WHATSAPP_API_BASE_URL's own origin.
  WHATSAPP_MEDIA_HOSTS: z.string().default('lookaside.fbsbx.com,*.fbcdn.net,graph.facebook.com'),
  // The largest media file kept; Meta's largest (a document) is 100 MB. A bigger download is cut off.
  MEDIA_MAX_BYTES: z.coerce.number().int().positive().default(100 * 1024 * 1024),

  MEDIA_DIR: z.string().default('.data/media'),
  // The certificate sealing completed contracts (PKCS#12, base64). Without it, a self-signed one is
  // generated once into the data directory: fine for one machine, not for several.
  SIGNING_CERT_P12_BASE64: z.string().optional(),
  SIGNING_CERT_PASSPHRASE: z.string().optional(),
  // Where the generated self-signed certificate is kept between restarts.
  SIGNING_CERT_DIR: z.string().default('.data'),
  // Where customers open public links (contract signing, proposals): this API's public address.
  PUBLIC_BASE_URL: z.string().url().default('http://localhost:3000'),
  SOCKET_CORS_ORIGIN: z.string().optional(),
  // The codec server (/codec/decode, /codec/encode) that lets the Temporal Web UI and CLI read the
  // sealed payloads: this ops token (or a platform administrator's access token) opens it, and
  // browsers may call it only from these origins (the Web UI's).
  TEMPORAL_CODEC_TOKEN: z.string().min(16, 'TEMPORAL_CODEC_TOKEN must have at least 16 characters').optional(),
  TEMPORAL_UI_ORIGINS: z.string().default('http://localhost:8233,http://127.0.0.1:8233'),

  // Staff TOTP codes (and passwords given to turn MFA off) per account per window, whatever the
  // number of login challenges; each challenge also allows only 5 tries.
  RATE_LIMIT_MFA_POINTS: z.coerce.number().int().positive().default(5),
  RATE_LIMIT_MFA_WINDOW_SECONDS: z.coerce.number().int().positive().default(15 * 60),
  RATE_LIMIT_LOGIN_POINTS: z.coerce.number().int().positive().default(5),
  RATE_LIMIT_LOGIN_WINDOW_SECONDS: z.coerce.number().int().positive().default(15 * 60),
  // Failed logins per IP (any e-mails) per window: one address spraying many accounts.
  RATE_LIMIT_LOGIN_IP_POINTS: z.coerce.number().int().positive().default(30),
  // Consecutive failed logins of one account (from any IPs) before it backs off: the block starts
  // at the base and doubles with each further failure, up to the max.
  RATE_LIMIT_LOGIN_ACCOUNT_FREE_FAILURES: z.coerce.number().int().positive().default(10),
  RATE_LIMIT_LOGIN_ACCOUNT_BACKOFF_SECONDS: z.coerce.number().int().positive().default(60),
  RATE_LIMIT_LOGIN_ACCOUNT_MAX_BACKOFF_SECONDS: z.coerce.number().int().positive().default(15 * 60),
  // Login attempts per minute across the platform, all spent before any password is hashed.
  RATE_LIMIT_LOGIN_GLOBAL_PER_MINUTE: z.coerce.number().int().positive().default(1200),
  // Argon2 checks at once per API process, and how many may wait for one; past that, 429.
  PASSWORD_VERIFY_CONCURRENCY: z.coerce.number().int().positive().default(2),
  PASSWORD_VERIFY_QUEUE: z.coerce.number().int().min(0).default(32),
  // A session (a family of refresh tokens) ends this long after its login, however often it is
  // refreshed: 30 days, OWASP ASVS level 1's bound for "remember me" sessions.
  SESSION_MAX_AGE_HOURS: z.coerce.number().int().positive().default(30 * 24),
  // Behind a load balancer: read the client's address from X-Forwarded-For, trusting only the last
  // TRUST_PROXY_HOPS entries (those our own proxies appended); anything before them is the client's.
  TRUST_PROXY: bool,
  TRUST_PROXY_HOPS: z.coerce.number().int().positive().default(1),
});

export type Config = z.infer<typeof envSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

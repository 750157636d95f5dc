import { z } from 'zod';

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

  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().default('orq:'),

  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('orquestra'),
  TEMPORAL_TLS: bool,
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_WEB_URL: z.string().optional(),

  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  WORKER_METRICS_URLS: z.string().default('http://127.0.0.1:9464/metrics'),
  // After SIGTERM/SIGINT the worker exits within this; npm start waits it plus a margin before SIGKILL.
  WORKER_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(1_000).default(10_000),

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

  RATE_LIMIT_LOGIN_POINTS: z.coerce.number().int().positive().default(5),
  RATE_LIMIT_LOGIN_WINDOW_SECONDS: z.coerce.number().int().positive().default(15 * 60),
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

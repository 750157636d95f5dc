import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { ApiDeps } from '../deps';
import { HttpProblem } from '../problem';

// Outside /api and outside authentication: for load balancers and humans. /metrics is here only
// when METRICS_TOKEN is set, and then only for that token: the metrics name routes, volumes and
// the worker's internals, which are nobody else's business. Its usual home is metricsRouter on
// the internal port.
export function opsRouter(deps: ApiDeps, openapi: () => object): Router {
  const router = new Router();
  const probes = readinessProbes(deps);

  router.get('/health', (ctx) => {
    ctx.state.routePath = '/health';
    ctx.body = { status: 'ok' };
  });

  router.get('/ready', async (ctx) => {
    ctx.state.routePath = '/ready';
    const checks = await probes();
    const down = Object.entries(checks).filter(([, c]) => !c.ok).map(([name]) => name);
    ctx.status = down.length ? 503 : 200;
    ctx.body = { status: down.length ? 'unavailable' : 'ready', ...(down.length ? { down } : {}), checks };
  });

  const token = deps.config.METRICS_TOKEN;
  if (token) {
    router.get('/metrics', async (ctx) => {
      ctx.state.routePath = '/metrics';
      if (!sameSecret(bearer(ctx.get('authorization')), token)) {
        throw new HttpProblem(401, 'Unauthorized', 'Métricas exigem o token de métricas (Authorization: Bearer).', {
          headers: { 'www-authenticate': 'Bearer realm="metrics"' },
        });
      }
      await serveMetrics(deps, ctx);
    });
  }

  router.get('/openapi.json', (ctx) => {
    ctx.state.routePath = '/openapi.json';
    ctx.body = openapi();
  });

  return router;
}

// What the internal metrics server (METRICS_HOST:METRICS_PORT) answers: no token, because only
// the operator's network reaches it.
export function metricsRouter(deps: ApiDeps): Router {
  const router = new Router();
  router.get('/metrics', (ctx) => serveMetrics(deps, ctx));
  return router;
}

async function serveMetrics(deps: ApiDeps, ctx: { type: string; body: unknown }): Promise<void> {
  const own = await deps.metrics.registry.metrics();
  const workers = await Promise.all(
    deps.config.WORKER_METRICS_URLS.split(',').filter(Boolean).map((url) => scrape(url.trim())),
  );
  ctx.type = deps.metrics.registry.contentType;
  ctx.body = [own, ...workers.filter(Boolean)].join('\n');
}

const bearer = (header: string): string => /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? '';

// Digests first: timingSafeEqual needs equal lengths, and the token's length is no clue either.
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return given !== '' && timingSafeEqual(digest(given), digest(expected));
}

// A fixed vocabulary, never the error's own text: /ready is public, and a driver's message can
// carry host names, ports, user names or versions.
type Check = { ok: boolean; ms: number; reason?: 'timeout' | 'error'; mode?: string };

class ProbeTimeout extends Error {}

// `race` bounds probes that have no deadline of their own. The Temporal probe carries a gRPC
// deadline instead: abandoning it mid-flight would leave the SDK's retry timer running past
// shutdown.
async function timed(probe: () => Promise<unknown>, race = true): Promise<Check & { err?: Error }> {
  const started = Date.now();
  try {
    await (race
      ? Promise.race([probe(), new Promise((_, reject) => setTimeout(() => reject(new ProbeTimeout('timed out after 2 s')), 2_000).unref())])
      : probe());
    return { ok: true, ms: Date.now() - started };
  } catch (err) {
    const e = err as Error & { code?: string | number };
    const timeout = err instanceof ProbeTimeout || e.name === 'TimeoutError' || /timed? ?out|deadline/i.test(e.message);
    return { ok: false, ms: Date.now() - started, reason: timeout ? 'timeout' : 'error', err: e };
  }
}

// The raw errors go to the log instead, once per change, not once per load balancer poll.
function readinessProbes(deps: ApiDeps): () => Promise<Record<string, Check>> {
  const lastLogged = new Map<string, string>();
  return async () => {
    const [temporal, postgres, redis] = await Promise.all([
      timed(
        () => deps.temporal.connection.withDeadline(Date.now() + 2_000, () => deps.temporal.connection.workflowService.getSystemInfo({})),
        false,
      ),
      timed(() => deps.knex.raw('SELECT 1')),
      deps.redis
        ? timed(() => (deps.redis as NonNullable<ApiDeps['redis']>).ping())
        : Promise.resolve<Check>({ ok: true, ms: 0, mode: 'in-process (no Redis configured)' }),
    ]);
    const checks: Record<string, Check & { err?: Error }> = { temporal, postgres, redis };
    for (const [name, { err }] of Object.entries(checks)) {
      const state = err ? err.message : 'ok';
      if (lastLogged.get(name) === state) continue;
      if (err) deps.log.warn({ dependency: name, err: err.message }, 'readiness check failed');
      else if (lastLogged.has(name)) deps.log.info({ dependency: name }, 'readiness check recovered');
      lastLogged.set(name, state);
    }
    return Object.fromEntries(Object.entries(checks).map(([name, { err: _err, ...check }]) => [name, check]));
  };
}

// The worker's Temporal SDK metrics live in the worker process (Core's Prometheus exporter);
// they are appended here so one scrape of the API shows both.
async function scrape(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

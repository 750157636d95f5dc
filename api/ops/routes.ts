import Router from '@koa/router';
import type { ApiDeps } from '../deps';

// Outside /api and outside authentication: for load balancers, Prometheus and humans.
export function opsRouter(deps: ApiDeps, openapi: () => object): Router {
  const router = new Router();

  router.get('/health', (ctx) => {
    ctx.state.routePath = '/health';
    ctx.body = { status: 'ok' };
  });

  router.get('/ready', async (ctx) => {
    ctx.state.routePath = '/ready';
    const checks = await readiness(deps);
    const ready = Object.values(checks).every((c) => c.ok);
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unavailable', checks };
  });

  router.get('/metrics', async (ctx) => {
    ctx.state.routePath = '/metrics';
    const own = await deps.metrics.registry.metrics();
    const workers = await Promise.all(
      deps.config.WORKER_METRICS_URLS.split(',').filter(Boolean).map((url) => scrape(url.trim())),
    );
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = [own, ...workers.filter(Boolean)].join('\n');
  });

  router.get('/openapi.json', (ctx) => {
    ctx.state.routePath = '/openapi.json';
    ctx.body = openapi();
  });

  return router;
}

type Check = { ok: boolean; ms: number; error?: string; mode?: string };

// `race` bounds probes that have no deadline of their own. The Temporal probe carries a gRPC
// deadline instead: abandoning it mid-flight would leave the SDK's retry timer running past
// shutdown.
async function timed(probe: () => Promise<unknown>, race = true): Promise<Check> {
  const started = Date.now();
  try {
    await (race
      ? Promise.race([probe(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 2 s')), 2_000).unref())])
      : probe());
    return { ok: true, ms: Date.now() - started };
  } catch (err) {
    return { ok: false, ms: Date.now() - started, error: (err as Error).message };
  }
}

async function readiness(deps: ApiDeps): Promise<Record<string, Check>> {
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
  return { temporal, postgres, redis };
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

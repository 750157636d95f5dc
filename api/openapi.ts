import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { idempotencyKeyHeader, type RouteDefinition } from './route';
import { problemSchema } from './schemas';

// Generated from the same route declarations (and zod schemas) that validate requests.
export function buildOpenApi(routes: RouteDefinition[], prefix: string): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  registry.registerComponent('securitySchemes', 'apiKey', { type: 'apiKey', in: 'header', name: 'X-API-Key' });
  const problem = { 'application/problem+json': { schema: problemSchema } };

  for (const r of routes) {
    const security: Record<string, string[]>[] =
      r.access === 'public' ? [] : [{ bearer: [] }, ...(r.access.scopes ? [{ apiKey: [] }] : [])];
    const responses = Object.fromEntries(
      Object.entries(r.responses).map(([status, doc]) => [
        status,
        Number(status) >= 400 || !doc.schema
          ? { description: doc.description, ...(Number(status) >= 400 ? { content: problem } : {}) }
          : { description: doc.description, content: { 'application/json': { schema: doc.schema } } },
      ]),
    );
    for (const [status, description] of [
      ['400', 'Invalid input (problem+json with the offending fields)'],
      ...(r.access === 'public' ? [] : [['401', 'Not authenticated'], ['403', 'Not allowed for this role or key'], ['429', 'Rate limit reached']]),
    ] as const) {
      responses[status] ??= { description, content: problem };
    }
    const roles = r.access === 'public' ? 'public' : `roles: ${r.access.roles.join(', ')}${r.access.scopes ? `; API key scopes: ${r.access.scopes.join(', ') || '(any key)'}` : ''}`;
    registry.registerPath({
      method: r.method,
      path: prefix + r.path.replace(/:(\w+)/g, '{$1}'),
      summary: r.summary,
      description: `Access — ${roles}`,
      tags: r.tags,
      security,
      request: {
        ...(r.params ? { params: r.params as never } : {}),
        ...(r.query ? { query: r.query as never } : {}),
        ...(r.idempotencyKey ? { headers: idempotencyKeyHeader } : {}),
        ...(r.body ? { body: { required: true, content: { 'application/json': { schema: r.body } } } } : {}),
      },
      responses,
    });
  }

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Orquestra API', version: '0.1.0', description: 'Multi-tenant processes as durable Temporal workflows.' },
    servers: [{ url: '/' }],
  });
}

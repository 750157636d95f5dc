import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import { NotFoundError } from 'objection';
import { Tenant } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import { PERMANENT_FAILURE_TYPES } from '../domain/permanent-failures';
import type { TenantStatus } from '../domain/tenant-statuses';

// Errors no retry can fix, turned into non-retryable failures once for every activity, so a
// workflow hears at the first attempt that the data it works on is gone or can never be valid,
// instead of retrying forever (local activities inside the workflow task, which also made a
// worker take 30 s to stop). Everything else, and every failure an activity classified itself,
// passes through untouched.

// Postgres SQLSTATEs the same statement will hit again on every retry.
const PERMANENT_SQLSTATES: Record<string, string> = {
  '23503': 'foreign-key violation',
  '23502': 'not-null violation',
  '23514': 'check violation',
  '22P02': 'invalid text representation',
};

// A tenant that is not there any more (deleted, erased) or no longer served.
const GONE_TENANT_STATUSES: ReadonlySet<TenantStatus> = new Set(['suspended', 'failed']);

export interface PermanentCause {
  reason: string;
  sqlState?: string;
  constraint?: string;
}

// Whether `err` is one no retry fixes: the violations above (raw from pg or wrapped by
// objection's db-errors) or a row `throwIfNotFound()` says is gone.
export function permanentCause(err: unknown): PermanentCause | null {
  if (err instanceof ApplicationFailure) return null;
  if (err instanceof NotFoundError) return { reason: 'required row not found' };
  const e = err as { code?: unknown; constraint?: unknown; nativeError?: { code?: unknown; constraint?: unknown } } | null;
  const code = e?.code ?? e?.nativeError?.code;
  if (typeof code !== 'string' || !(code in PERMANENT_SQLSTATES)) return null;
  const constraint = e?.constraint ?? e?.nativeError?.constraint;
  return { reason: PERMANENT_SQLSTATES[code] as string, sqlState: code, ...(typeof constraint === 'string' ? { constraint } : {}) };
}

// A missing reference or row is most often the tenant itself gone: worth one look, so the
// workflow (and whoever reads its failure) can tell "tenant gone" from a bug.
async function tenantGone(knex: Knex, tenantId: string): Promise<boolean> {
  try {
    const tenant = await withTenant(knex, tenantId, async (trx) => Tenant.query(trx).findById(tenantId));
    return !tenant || GONE_TENANT_STATUSES.has(tenant.status);
  } catch {
    return false; // the look itself failed: say no more than "permanent"
  }
}

async function classify(knex: Knex, activity: string, input: unknown, err: unknown): Promise<unknown> {
  const cause = permanentCause(err);
  if (!cause) return err;
  const tenantId = (input as { tenantId?: unknown } | null)?.tenantId;
  const gone =
    typeof tenantId === 'string' && (cause.sqlState === '23503' || cause.sqlState === undefined) && (await tenantGone(knex, tenantId));
  const type = gone ? PERMANENT_FAILURE_TYPES.tenantGone : PERMANENT_FAILURE_TYPES.permanent;
  const what = gone ? `tenant ${tenantId as string} is gone` : cause.reason;
  return ApplicationFailure.create({
    type,
    // The statement and Postgres' own words travel in the cause; the message stays readable.
    message: `${activity}: ${what} (${[cause.sqlState, cause.constraint].filter(Boolean).join(' ') || cause.reason})`,
    nonRetryable: true,
    details: [{ activity, ...cause, ...(typeof tenantId === 'string' ? { tenantId } : {}) }],
    cause: err instanceof Error ? err : undefined,
  });
}

type AsyncFunctions = Record<string, (...args: never[]) => Promise<unknown>>;

// Every activity of the map, same names and types, with its permanent errors classified.
export function withPermanentFailures<T extends AsyncFunctions>(knex: Knex, activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, activity] of Object.entries(activities)) {
    const fn = activity as (...args: unknown[]) => Promise<unknown>;
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw await classify(knex, name, args[0], err);
      }
    };
  }
  return wrapped as T;
}

import { ApplicationFailure } from '@temporalio/activity';
import { recordAudit } from '../db/audit';
import { Tenant, TenantSettingsRow } from '../db/models';
import { isUniqueViolation, withTenant } from '../db/tenant-scope';
import { DEFAULT_TENANT_SETTINGS, tenantSettingsSchema } from '../domain/tenant-settings';
import { callerWorkflowId, type ActivityDeps, type AuditContext } from './deps';

export function tenantActivities({ knex }: ActivityDeps) {
  return {
    async createTenant(a: { tenantId: string; slug: string; name: string; plan: string } & AuditContext): Promise<void> {
      await withTenant(knex, a.tenantId, async (trx) => {
        // A retry after a commit whose acknowledgement was lost finds its own row.
        if (await Tenant.query(trx).findById(a.tenantId)) return;
        try {
          await Tenant.query(trx).insert({
            id: a.tenantId,
            slug: a.slug,
            name: a.name,
            plan: a.plan,
            status: 'provisioning',
            provisioningWorkflowId: callerWorkflowId() ?? 'unknown',
          });
        } catch (err) {
          if (isUniqueViolation(err, 'tenants_slug_live')) {
            throw ApplicationFailure.nonRetryable(`slug "${a.slug}" is already in use`, 'SlugTaken');
          }
          throw err;
        }
        await recordAudit(trx, {
          tenantId: a.tenantId, actor: a.actor, requestId: a.requestId, workflowId: callerWorkflowId(),
          action: 'tenant.created', entityType: 'tenant', entityId: a.tenantId,
          details: { slug: a.slug, name: a.name, plan: a.plan },
        });
      });
    },

    async applyDefaultSettings(a: { tenantId: string; timeZone?: string } & AuditContext): Promise<void> {
      const settings = tenantSettingsSchema.parse({ ...DEFAULT_TENANT_SETTINGS, ...(a.timeZone ? { timeZone: a.timeZone } : {}) });
      await withTenant(knex, a.tenantId, async (trx) => {
        const inserted = await trx('tenant_settings')
          .insert({ tenantId: a.tenantId, settings: JSON.stringify(settings) })
          .onConflict('tenant_id')
          .ignore()
          .returning('tenant_id');
        if (inserted.length) {
          await recordAudit(trx, {
            tenantId: a.tenantId, actor: a.actor, requestId: a.requestId, workflowId: callerWorkflowId(),
            action: 'tenant.settings_applied', entityType: 'tenant_settings', entityId: a.tenantId, details: { settings },
          });
        }
      });
    },

    async activateTenant(a: { tenantId: string } & AuditContext): Promise<void> {
      await withTenant(knex, a.tenantId, async (trx) => {
        const n = await Tenant.query(trx)
          .patch({ status: 'active', provisionedAt: new Date(), updatedAt: new Date() })
          .where({ id: a.tenantId, status: 'provisioning' });
        if (n) {
          await recordAudit(trx, {
            tenantId: a.tenantId, actor: a.actor, requestId: a.requestId, workflowId: callerWorkflowId(),
            action: 'tenant.activated', entityType: 'tenant', entityId: a.tenantId,
          });
        }
      });
    },

    // Compensation for createTenant. The row stays (with the audit trail pointing at it) but its
    // slug is freed: a failed tenant is a record, not a tenant.
    async discardTenant(a: { tenantId: string } & AuditContext): Promise<void> {
      await withTenant(knex, a.tenantId, async (trx) => {
        await Tenant.query(trx).patch({ status: 'failed', updatedAt: new Date() }).where({ id: a.tenantId });
      });
    },

    async removeSettings(a: { tenantId: string }): Promise<void> {
      await withTenant(knex, a.tenantId, async (trx) => {
        await TenantSettingsRow.query(trx).delete().where({ tenantId: a.tenantId });
      });
    },

    async recordProvisioningFailure(a: { tenantId: string; slug: string; reason: string } & AuditContext): Promise<void> {
      await withTenant(knex, a.tenantId, async (trx) => {
        await Tenant.query(trx).patch({ failureReason: a.reason, updatedAt: new Date() }).where({ id: a.tenantId });
        await recordAudit(trx, {
          tenantId: a.tenantId, actor: a.actor, requestId: a.requestId, workflowId: callerWorkflowId(),
          action: 'tenant.provisioning_failed', entityType: 'tenant', entityId: a.tenantId,
          details: { slug: a.slug, reason: a.reason },
        });
      });
    },
  };
}

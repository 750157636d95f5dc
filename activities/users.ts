import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { recordAudit } from '../db/audit';
import { User } from '../db/models';
import { isUniqueViolation, withTenant } from '../db/tenant-scope';
import { callerWorkflowId, type ActivityDeps, type AuditContext } from './deps';

export function userActivities({ knex }: ActivityDeps) {
  return {
    async createTenantAdmin(
      a: { tenantId: string; name: string; email: string; passwordHash: string } & AuditContext,
    ): Promise<string> {
      const email = a.email.toLowerCase();
      return withTenant(knex, a.tenantId, async (trx) => {
        const mine = await User.query(trx).findOne({ email });
        if (mine) return mine.id;
        const id = randomUUID();
        try {
          await User.query(trx).insert({
            id, tenantId: a.tenantId, email, name: a.name, role: 'TENANT_ADMIN', passwordHash: a.passwordHash, active: true,
          });
        } catch (err) {
          // Not visible in this tenant, so it belongs to another one.
          if (isUniqueViolation(err, 'users_email')) {
            throw ApplicationFailure.nonRetryable(`e-mail ${email} is already registered`, 'EmailTaken');
          }
          throw err;
        }
        await recordAudit(trx, {
          tenantId: a.tenantId, actor: a.actor, requestId: a.requestId, workflowId: callerWorkflowId(),
          action: 'user.created', entityType: 'user', entityId: id, details: { email, role: 'TENANT_ADMIN' },
        });
        return id;
      });
    },

    async removeUser(a: { tenantId: string; userId: string } & AuditContext): Promise<void> {
      await withTenant(knex, a.tenantId, async (trx) => {
        const n = await User.query(trx).deleteById(a.userId);
        if (n) {
          await recordAudit(trx, {
            tenantId: a.tenantId, actor: a.actor, requestId: a.requestId, workflowId: callerWorkflowId(),
            action: 'user.removed', entityType: 'user', entityId: a.userId, details: { reason: 'provisioning compensation' },
          });
        }
      });
    },
  };
}

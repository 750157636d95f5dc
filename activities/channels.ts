import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { recordAudit } from '../db/audit';
import { WhatsAppChannel } from '../db/models';
import { isUniqueViolation, withTenant } from '../db/tenant-scope';
import { callerWorkflowId, type ActivityDeps, type AuditContext } from './deps';

export function channelActivities({ knex }: ActivityDeps) {
  return {
    async saveWhatsAppChannel(
      a: {
        tenantId: string;
        phoneNumberId: string;
        wabaId: string;
        accessTokenSealed: string;
        displayPhoneNumber: string | null;
        verifiedName: string | null;
      } & AuditContext,
    ): Promise<string> {
      return withTenant(knex, a.tenantId, async (trx) => {
        const mine = await WhatsAppChannel.query(trx).findOne({ phoneNumberId: a.phoneNumberId });
        if (mine) return mine.id;
        const id = randomUUID();
        try {
          await WhatsAppChannel.query(trx).insert({
            id,
            tenantId: a.tenantId,
            phoneNumberId: a.phoneNumberId,
            wabaId: a.wabaId,
            accessTokenSealed: a.accessTokenSealed,
            displayPhoneNumber: a.displayPhoneNumber,
            verifiedName: a.verifiedName,
            verifiedAt: new Date(),
          });
        } catch (err) {
          if (isUniqueViolation(err)) {
            throw ApplicationFailure.nonRetryable(`phone number ${a.phoneNumberId} is already connected to another tenant`, 'PhoneNumberInUse');
          }
          throw err;
        }
        await recordAudit(trx, {
          tenantId: a.tenantId, actor: a.actor, requestId: a.requestId,
          workflowId: callerWorkflowId(),
          action: 'whatsapp_channel.connected', entityType: 'whatsapp_channel', entityId: id,
          details: { phoneNumberId: a.phoneNumberId, wabaId: a.wabaId, displayPhoneNumber: a.displayPhoneNumber },
        });
        return id;
      });
    },

    async removeWhatsAppChannel(a: { tenantId: string; channelId: string }): Promise<void> {
      await withTenant(knex, a.tenantId, async (trx) => {
        await WhatsAppChannel.query(trx).deleteById(a.channelId);
      });
    },
  };
}

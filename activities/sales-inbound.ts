import type { SignalDefinition } from '@temporalio/common';
import { Appointment, Lead } from '../db/models';
import { readTenantSettings } from '../db/tenant-settings';
import { withTenant } from '../db/tenant-scope';
import { SYSTEM_ACTOR } from '../domain/actor';
import { inboundMeaning } from '../domain/sales-inbound';
import { OPEN_APPOINTMENT_STATUSES } from '../domain/sales-statuses';
import type { TenantSettings } from '../domain/tenant-settings';
import type { InboundMessage } from '../domain/whatsapp-messages';
import { appointmentWorkflowId, contactAnsweredSignal } from '../workflows/appointment/definitions';
import { contactRepliedSignal } from '../workflows/nurturing/definitions';
import type { ActivityDeps } from './deps';
import { intakeLead, openLeadWorkflowIds } from './lead-intake';
import { withdrawMarketingConsent } from './marketing-consent';
import { signalIfRunning } from './temporal-calls';

// What the conversation workflow hands the sales funnel for each guest message: an opt-out
// withdraws marketing consent and stops the cadences; any other message stops them as a reply;
// an answer to an appointment goes to its workflow; and a first message from a contact with no
// lead opens one when the tenant wants that. Every step is safe to repeat (a retried activity):
// the withdrawal and the lead are keyed by the wamid, signals are idempotent for their receivers.

export interface RouteInbound {
  tenantId: string;
  contactId: string;
  message: InboundMessage;
}

export interface RoutedInbound {
  optedOut: boolean;
  repliedTo: number;
  appointment: { appointmentId: string; action: string } | null;
  leadCreated: string | null;
}

export function salesInboundActivities(deps: ActivityDeps) {
  // A workflow that already ended (a cold lead, a past appointment) has nothing left to hear.
  const signal = <A extends unknown[]>(workflowId: string, def: SignalDefinition<A>, ...args: A) => signalIfRunning(deps, workflowId, def, ...args);

  return {
    // `known.settings`: the tenant's settings, when the caller has just read them.
    async routeInboundToSales({ tenantId, contactId, message }: RouteInbound, known?: { settings: TenantSettings }): Promise<RoutedInbound> {
      const at = new Date(message.timestamp * 1000).toISOString();
      const result: RoutedInbound = { optedOut: false, repliedTo: 0, appointment: null, leadCreated: null };
      const meaning = inboundMeaning(message);
      if (meaning.kind === 'none') return result;
      if (meaning.kind === 'opt_out') {
        await withdrawMarketingConsent(deps, {
          tenantId,
          contactId,
          channel: 'whatsapp',
          evidence: { wamid: message.wamid, text: message.interactive?.title ?? message.text },
          dedupeKey: `wamid:${message.wamid}`,
          actor: SYSTEM_ACTOR,
          occurredAt: new Date(message.timestamp * 1000),
        });
        return { ...result, optedOut: true };
      }

      const { settings, hasLead, appointmentId } = await withTenant(deps.knex, tenantId, async (trx) => {
        const hasLead = Boolean(await Lead.query(trx).where({ contactId }).select('id').first());
        let appointmentId: string | null = null;
        const a = meaning.appointment;
        if (a?.source === 'button') {
          // Only the contact's own appointment: a button id typed by someone else changes nothing.
          const own = await Appointment.query(trx).where({ id: a.appointmentId, contactId }).select('id').first();
          appointmentId = own?.id ?? null;
        } else if (a?.source === 'text') {
          const open = await Appointment.query(trx).where({ contactId }).whereIn('status', OPEN_APPOINTMENT_STATUSES).limit(2).select('id');
          appointmentId = open.length === 1 ? (open[0] as Appointment).id : null;
        }
        // Only a contact without a lead needs them (may one be opened from WhatsApp?).
        const settings = known ? known.settings : hasLead ? undefined : (await readTenantSettings(trx, tenantId))?.settings;
        return { settings, hasLead, appointmentId };
      });

      if (!hasLead && settings?.sales.leadFromWhatsApp) {
        const referral = message.referral as { headline?: unknown; source_url?: unknown } | undefined;
        const { lead, created } = await intakeLead(deps, {
          tenantId,
          contact: { id: contactId },
          interest: '',
          source: 'whatsapp',
          sourceDetail: typeof referral?.headline === 'string' ? referral.headline.slice(0, 200) : null,
          note: message.text ? message.text.slice(0, 2000) : null,
          actor: SYSTEM_ACTOR,
          idempotencyKey: `wamid:${message.wamid}`,
        });
        if (created) result.leadCreated = lead.id;
      }

      // The lead this very message opened has nothing to stop: its nurturing sees the reply itself.
      // A contact who had no lead has no cadence to stop either (most guests of a hotel).
      const leadWorkflows = hasLead ? await openLeadWorkflowIds(deps, tenantId, contactId) : [];
      for (const workflowId of leadWorkflows) {
        if (result.leadCreated && workflowId.endsWith(`:${result.leadCreated}`)) continue;
        if (await signal(workflowId, contactRepliedSignal, { messageId: message.wamid, at })) result.repliedTo++;
      }

      if (appointmentId && meaning.appointment) {
        const told = await signal(appointmentWorkflowId(tenantId, appointmentId), contactAnsweredSignal, {
          action: meaning.appointment.action,
          source: meaning.appointment.source,
          messageId: message.wamid,
          text: message.interactive?.title ?? message.text,
          at,
        });
        if (told) result.appointment = { appointmentId, action: meaning.appointment.action };
      }
      return result;
    },
  };
}

import type { Knex } from 'knex';
import {
  deleteBillingSchedule,
  endSubscription,
  ensureBillingSchedule,
  insertSubscription,
  issueDueInvoices,
  pauseBillingSchedule,
  tenantToday,
  unpauseBillingSchedule,
} from '../../activities/billing-schedules';
import { Subscription } from '../../db/models';
import { readTenantSettings } from '../../db/tenant-settings';
import { isUniqueViolation, withTenant } from '../../db/tenant-scope';
import { nextDueDate } from '../../domain/billing-cycle';
import { CONSUMER_MAX_FINE_PERCENT, isConsumerDocument } from '../../domain/billing-terms';
import { BILLING_ROLES } from '../../domain/roles';
import { normalizeTaxId } from '../../domain/tax-id';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import type { ApiDeps } from '../deps';
import { keysetPage, pageOf } from '../pagination';
import { badRequest, conflict, notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';
import { callWorkflow } from '../workflow-calls';
import { createSubscriptionBody, endSubscriptionBody, subscriptionListQuery, subscriptionView, toSubscriptionView } from './schema';

// Subscriptions: invoices every cycle from ONE Temporal Schedule each (activities/billing-schedules.ts,
// which the contract hand-off uses too). Rows are committed before the schedule is touched; a
// schedule call Temporal cannot take now is a 503 and the row stays as it was asked (a retry, or
// the next firing, completes it).

const read = { roles: BILLING_ROLES, scopes: ['invoices:read' as const] };
const write = { roles: BILLING_ROLES, scopes: ['subscriptions:write' as const] };
const idParam = uuidParam('subscriptionId');

async function found(db: Knex.Transaction, id: string): Promise<Subscription> {
  const sub = await Subscription.query(db).findById(id);
  if (!sub) throw notFound('Assinatura não encontrada.');
  return sub;
}

const temporalCall = <T>(deps: ApiDeps, call: () => Promise<T>) => callWorkflow(deps, call, { deadlineMs: 15_000 });

export const createSubscription = route({
  method: 'post',
  path: '/subscriptions',
  summary: 'Creates a subscription and its schedule; what is due already is issued at once',
  tags: ['billing'],
  access: write,
  body: createSubscriptionBody,
  idempotencyKey: true,
  responses: {
    201: { description: 'Created, with its schedule', schema: subscriptionView },
    200: { description: 'The same Idempotency-Key: the subscription the first call created', schema: subscriptionView },
    400: { description: 'Invalid terms (a consumer fine above 2%, a first due date in the past)' },
    404: { description: 'No such contact' },
  },
  async handler({ body, deps, tenantId, actor, db, audit, idempotencyKey }) {
    if (idempotencyKey) {
      const again = await Subscription.query(db).where({ idempotencyKey }).first();
      if (again) return { status: 200, body: toSubscriptionView(again) };
    }
    let created: { sub: Subscription; timeZone: string };
    try {
      created = await withTenant(deps.knex, tenantId, async (trx) => {
        const contact = await trx('contacts').where({ id: body.contactId }).first('id', 'document');
        if (!contact) throw notFound('Contato não encontrado.');
        const settings = (await readTenantSettings(trx, tenantId))?.settings ?? DEFAULT_TENANT_SETTINGS;
        const { today } = await tenantToday(trx, tenantId);
        const finePercent = body.finePercent ?? settings.billing.lateCharges.finePercent;
        if (isConsumerDocument(contact.document ?? null) && finePercent > CONSUMER_MAX_FINE_PERCENT) {
          throw badRequest(`Multa acima de ${CONSUMER_MAX_FINE_PERCENT}% não é permitida para consumidor (CDC art. 52 §1).`, [{ path: 'body.finePercent', message: `no máximo ${CONSUMER_MAX_FINE_PERCENT}%` }]);
        }
        if (body.firstDueDate < today) throw badRequest('O primeiro vencimento não pode estar no passado.', [{ path: 'body.firstDueDate', message: `a partir de ${today}` }]);
        const owner = body.ownerName && body.ownerDocument
          ? {
              name: body.ownerName,
              document: (normalizeTaxId(body.ownerDocument) as { digits: string }).digits,
              pixKey: body.ownerPixKey ?? null,
              agencyFeePercent: body.agencyFeePercent ?? settings.billing.payouts.agencyFeePercent,
              payoutDay: body.payoutDay ?? settings.billing.payouts.payoutDay,
            }
          : null;
        const sub = await insertSubscription(trx, {
          tenantId,
          contactId: body.contactId,
          description: body.description,
          amountCents: body.amountCents,
          cycle: body.cycle,
          billingType: body.billingType ?? settings.billing.invoices.billingType,
          finePercent,
          monthlyInterestPercent: body.monthlyInterestPercent ?? settings.billing.lateCharges.monthlyInterestPercent,
          firstDueDate: body.firstDueDate,
          maxInvoices: body.maxInvoices ?? null,
          issueDaysBeforeDue: body.issueDaysBeforeDue ?? settings.billing.invoices.issueDaysBeforeDue,
          owner,
          createdBy: actor.type === 'user' ? actor.id : null,
        });
        if (idempotencyKey) await Subscription.query(trx).patch({ idempotencyKey }).where({ id: sub.id });
        return { sub, timeZone: settings.timeZone };
      });
    } catch (err) {
      if (idempotencyKey && isUniqueViolation(err, 'subscriptions_idempotency')) {
        const again = await Subscription.query(db).where({ idempotencyKey }).first();
        if (again) return { status: 200, body: toSubscriptionView(again) };
      }
      throw err;
    }
    const { sub, timeZone } = created;
    await temporalCall(deps, () => ensureBillingSchedule(deps, sub, timeZone));
    await temporalCall(deps, () => issueDueInvoices(deps, { tenantId, subscriptionId: sub.id }));
    await audit({ action: 'subscription.created', entityType: 'subscription', entityId: sub.id, details: { cycle: sub.cycle, amountCents: sub.amountCents, maxInvoices: sub.maxInvoices } });
    return { status: 201, body: toSubscriptionView(await found(db, sub.id)) };
  },
});

export const listSubscriptions = route({
  method: 'get',
  path: '/subscriptions',
  summary: 'Subscriptions, newest first (keyset pages)',
  tags: ['billing'],
  access: read,
  query: subscriptionListQuery,
  responses: { 200: { description: 'A page of subscriptions', schema: pageOf(subscriptionView) } },
  async handler({ query, db }) {
    const qb = Subscription.query(db);
    if (query.status) qb.where({ status: query.status });
    if (query.contactId) qb.where({ contactId: query.contactId });
    if (query.contractId) qb.where({ contractId: query.contractId });
    const page = await keysetPage(qb, query);
    return { body: { items: page.rows.map(toSubscriptionView), nextCursor: page.nextCursor } };
  },
});

export const getSubscription = route({
  method: 'get',
  path: '/subscriptions/:subscriptionId',
  summary: 'A subscription with its next invoice',
  tags: ['billing'],
  access: read,
  params: idParam,
  responses: { 200: { description: 'The subscription', schema: subscriptionView }, 404: { description: 'No such subscription in this tenant' } },
  async handler({ params, db }) {
    return { body: toSubscriptionView(await found(db, params.subscriptionId)) };
  },
});

export const pauseSubscription = route({
  method: 'post',
  path: '/subscriptions/:subscriptionId/pause',
  summary: 'Pauses a subscription: its schedule is paused and no invoice is issued until resumed',
  tags: ['billing'],
  access: write,
  params: idParam,
  responses: { 200: { description: 'Paused', schema: subscriptionView }, 404: { description: 'No such subscription' }, 409: { description: 'Ended' } },
  async handler({ params, db, deps, tenantId, audit }) {
    const sub = await withTenant(deps.knex, tenantId, async (trx) => {
      const row = await Subscription.query(trx).findById(params.subscriptionId).forUpdate();
      if (!row) throw notFound('Assinatura não encontrada.');
      if (row.status === 'ended') throw conflict('A assinatura já foi encerrada.');
      if (row.status === 'paused') return row;
      const at = new Date();
      return Subscription.query(trx).patchAndFetchById(row.id, { status: 'paused', pausedAt: at, updatedAt: at });
    });
    await temporalCall(deps, () => pauseBillingSchedule(deps, sub.scheduleId, 'Assinatura pausada.'));
    await audit({ action: 'subscription.paused', entityType: 'subscription', entityId: sub.id });
    return { body: toSubscriptionView(await found(db, sub.id)) };
  },
});

export const resumeSubscription = route({
  method: 'post',
  path: '/subscriptions/:subscriptionId/resume',
  summary: 'Resumes a paused subscription; the periods that fell due while paused are not charged',
  tags: ['billing'],
  access: write,
  params: idParam,
  responses: { 200: { description: 'Active again', schema: subscriptionView }, 404: { description: 'No such subscription' }, 409: { description: 'Ended' } },
  async handler({ params, db, deps, tenantId, audit }) {
    // A pause is a break in the service: its periods are skipped (a plan of N invoices then
    // issues fewer), so resuming never issues invoices already past due.
    const resumed = await withTenant(deps.knex, tenantId, async (trx) => {
      const row = await Subscription.query(trx).findById(params.subscriptionId).forUpdate();
      if (!row) throw notFound('Assinatura não encontrada.');
      if (row.status === 'ended') throw conflict('A assinatura já foi encerrada.');
      if (row.status === 'active') return { sub: row, timeZone: (await tenantToday(trx, tenantId)).timeZone };
      const { today, timeZone } = await tenantToday(trx, tenantId);
      let sequence = row.nextSequence;
      let due = row.nextDueDate;
      while (due < today) {
        sequence += 1;
        due = nextDueDate(row.cycle, row.firstDueDate, sequence);
      }
      const at = new Date();
      const ended = row.maxInvoices !== null && sequence > row.maxInvoices;
      const sub = await Subscription.query(trx).patchAndFetchById(row.id, {
        status: ended ? 'ended' : 'active',
        nextSequence: sequence,
        nextDueDate: due,
        pausedAt: null,
        updatedAt: at,
        ...(ended ? { endedAt: at, endReason: 'Parcelas restantes venceram durante a pausa.' } : {}),
      });
      return { sub, timeZone };
    });
    const { sub } = resumed;
    if (sub.status === 'ended') {
      await temporalCall(deps, () => deleteBillingSchedule(deps, sub.scheduleId));
    } else {
      // A schedule lost (deleted by hand in the Web UI) is put back, then unpaused.
      await temporalCall(deps, () => ensureBillingSchedule(deps, sub, resumed.timeZone));
      await temporalCall(deps, () => unpauseBillingSchedule(deps, sub.scheduleId, 'Assinatura retomada.'));
      await temporalCall(deps, () => issueDueInvoices(deps, { tenantId, subscriptionId: sub.id }));
    }
    await audit({ action: 'subscription.resumed', entityType: 'subscription', entityId: sub.id });
    return { body: toSubscriptionView(await found(db, sub.id)) };
  },
});

export const endSubscriptionRoute = route({
  method: 'post',
  path: '/subscriptions/:subscriptionId/end',
  summary: 'Ends a subscription: its schedule is deleted; invoices already issued keep their own collection',
  tags: ['billing'],
  access: write,
  params: idParam,
  body: endSubscriptionBody,
  responses: { 200: { description: 'Ended', schema: subscriptionView }, 404: { description: 'No such subscription' }, 409: { description: 'Already ended' } },
  async handler({ params, body, db, deps, tenantId, audit }) {
    const sub = await found(db, params.subscriptionId);
    if (sub.status === 'ended') throw conflict('A assinatura já foi encerrada.');
    await temporalCall(deps, () => endSubscription(deps, tenantId, sub.id, body.reason));
    await audit({ action: 'subscription.ended', entityType: 'subscription', entityId: sub.id, details: { reason: body.reason } });
    return { body: toSubscriptionView(await found(db, sub.id)) };
  },
});

export const subscriptionRoutes = [createSubscription, listSubscriptions, getSubscription, pauseSubscription, resumeSubscription, endSubscriptionRoute];

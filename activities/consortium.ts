import { randomUUID } from 'node:crypto';
import { ddmmyyyy } from '../domain/collection-notice';
import { ApplicationFailure, log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { groupFund, issueInstallment, quotaStandings, rulesInForce } from '../db/consortium';
import { Contact, ConsortiumAssembly, ConsortiumBid, ConsortiumContemplation, ConsortiumGroup, ConsortiumQuota, ConsortiumRuleVersion, type Invoice } from '../db/models';
import { readTenantSettings } from '../db/tenant-settings';
import { withTenant } from '../db/tenant-scope';
import { addMonths, assemblyDates, monthOfDate } from '../domain/assembly-calendar';
import { sealAssemblyRecord, type AssemblyRecordBody, type LotteryCorrection, type LotteryEntry } from '../domain/assembly-record';
import type { AssemblyInputs, AssemblyQuota, AssemblyResult, Contemplation } from '../domain/assembly-result';
import { applyWinningBid } from '../domain/bid-application';
import { localParts, zonedTimeToUtc } from '../domain/calendar';
import type { GroupRules } from '../domain/consortium-rules';
import { shouldExclude } from '../domain/consortium-standing';
import type { AssemblyStatus, BidStatus } from '../domain/consortium-statuses';
import { formatBrl } from '../domain/contract-template';
import { addCalendarDays, isBankBusinessDay } from '../domain/late-charges';
import { PERMANENT_FAILURE_TYPES } from '../domain/permanent-failures';
import type { QuotaUpdatedEvent } from '../domain/realtime-events';
import { CONSORTIUM_ROLES } from '../domain/roles';
import type { TenantSettings } from '../domain/tenant-settings';
import type { FrozenAssembly, LiveBid, MonthToOpen, OpenedAssemblyFacts, PendingBidPayment } from '../workflows/assembly/definitions';
import { localDeadline } from '../workflows/assembly/transitions';
import { dunningStart, dunningWorkflowId } from '../workflows/dunning';
import { startAutomationEvent } from './automation-events';
import { sendToContact } from './contact-messaging';
import { realtimeOf, type ActivityDeps } from './deps';
import { startOnce } from './temporal-calls';

// The assembly workflow's side effects: its row (insert-or-get per group and month), each bid
// (by the id the workflow drew, so a retry writes once), the freeze at the close of bidding (the
// exclusions it makes and the bids it finds ineligible), the lottery entry and its corrections,
// the result's contemplations and the plans the paid bids amortize, the sealed record; and the
// members' WhatsApp notices, automation events and live events around them. Notices are sent one
// by one with an update id of their own: one member's failure is logged and the others still go.

type ConsortiumTemplate = Exclude<keyof TenantSettings['consortium']['templates'], 'language'>;

interface Notice {
  contactId: string;
  parameters: string[];
  // Deterministic per step and member: a retried activity does not send twice.
  updateId: string;
}

const gone = (what: string) => ApplicationFailure.create({ type: PERMANENT_FAILURE_TYPES.permanent, message: `${what} not found`, nonRetryable: true });
const monthText = (month: string) => month.split('-').reverse().join('/');

async function settingsOf(trx: Knex.Transaction, tenantId: string): Promise<TenantSettings> {
  const read = await readTenantSettings(trx, tenantId);
  if (!read) throw gone(`settings of tenant ${tenantId}`);
  return read.settings;
}

async function assemblyOf(trx: Knex.Transaction, assemblyId: string, lock = false): Promise<ConsortiumAssembly> {
  const q = ConsortiumAssembly.query(trx).findById(assemblyId);
  const row = await (lock ? q.forUpdate() : q);
  if (!row) throw gone(`assembly ${assemblyId}`);
  return row;
}

async function groupOf(trx: Knex.Transaction, groupId: string): Promise<ConsortiumGroup> {
  const g = await ConsortiumGroup.query(trx).findById(groupId);
  if (!g) throw gone(`consortium group ${groupId}`);
  return g;
}

async function rulesOf(trx: Knex.Transaction, groupId: string, version: number): Promise<GroupRules> {
  const rv = await ConsortiumRuleVersion.query(trx).where({ groupId, version }).first();
  if (!rv) throw gone(`rules version ${version} of group ${groupId}`);
  return rv.rules;
}

export function quotaEvent(q: ConsortiumQuota): QuotaUpdatedEvent {
  return {
    tenantId: q.tenantId,
    quotaId: q.id,
    groupId: q.groupId,
    number: q.number,
    contactId: q.contactId,
    status: q.status,
    installmentCents: q.installmentCents,
    installmentCount: q.installmentCount,
    updatedAt: new Date(q.updatedAt).toISOString(),
  };
}

// The end of the n-th bank business day after today, in the tenant's calendar (national holidays
// and weekends skipped): a winning bid's payment deadline.
export function bidPaymentDeadline(nowMs: number, businessDays: number, timeZone: string): Date {
  let d = localParts(nowMs, timeZone).date;
  for (let n = 0; n < businessDays; ) {
    d = addCalendarDays(d, 1);
    if (isBankBusinessDay(d)) n++;
  }
  return zonedTimeToUtc(addCalendarDays(d, 1), 0, timeZone);
}

const exclusionPrefix = (month: string) => `Excluída na assembleia de ${monthText(month)}:`;

const BID_STATUS_OF: Record<AssemblyResult['bidOutcomes'][string]['outcome'], BidStatus> = {
  won: 'won',
  pending_payment: 'won',
  disqualified: 'disqualified',
  lost: 'lost',
  ineligible: 'ineligible',
};

const NOTICE_BATCH = 5;

const KIND_TEXT: Record<Contemplation['kind'], string> = { draw: 'sorteio', excluded_draw: 'sorteio de cota excluída (restituição)', bid: 'lance' };

export function consortiumActivities(deps: ActivityDeps) {
  const { knex } = deps;
  const realtime = () => realtimeOf(deps);

  async function emitAssembly(tenantId: string, assemblyId: string): Promise<void> {
    const payload = await withTenant(knex, tenantId, async (trx) => {
      const a = await ConsortiumAssembly.query(trx).findById(assemblyId);
      if (!a) return null;
      const live = await ConsortiumBid.query(trx).where({ assemblyId, status: 'live' }).resultSize();
      const contemplated = await ConsortiumContemplation.query(trx).where({ assemblyId }).whereNot({ status: 'disqualified' }).orderBy('quotaNumber');
      return {
        tenantId,
        assemblyId,
        groupId: a.groupId,
        month: a.month,
        status: a.status,
        liveBids: live,
        published: a.publishedAt !== null,
        contemplatedQuotas: contemplated.map((c) => c.quotaNumber),
        updatedAt: new Date(a.updatedAt).toISOString(),
      };
    });
    if (payload) await realtime().emit({ tenantId, roles: CONSORTIUM_ROLES }, 'assembly:updated', payload);
  }

  async function emitQuotas(tenantId: string, quotaIds: string[]): Promise<void> {
    if (quotaIds.length === 0) return;
    const rows = await withTenant(knex, tenantId, async (trx) => ConsortiumQuota.query(trx).whereIn('id', quotaIds));
    for (const q of rows) await realtime().emit({ tenantId, roles: CONSORTIUM_ROLES }, 'quota:updated', quotaEvent(q));
  }

  // The tenant's template to each member, when the tenant notifies members; a member without
  // WhatsApp or flagged "do not contact" is skipped, and a failed send does not stop the others.
  async function notify(tenantId: string, template: ConsortiumTemplate, notices: Notice[]): Promise<{ sent: number; skipped: number; failed: number }> {
    const tally = { sent: 0, skipped: 0, failed: 0 };
    if (notices.length === 0) return tally;
    const prepared = await withTenant(knex, tenantId, async (trx) => {
      const settings = await settingsOf(trx, tenantId);
      if (!settings.consortium.notifyMembers) return null;
      const contacts = await Contact.query(trx).whereIn('id', [...new Set(notices.map((n) => n.contactId))]);
      return { templates: settings.consortium.templates, contacts: new Map(contacts.map((c) => [c.id, c])) };
    });
    if (!prepared) return { ...tally, skipped: notices.length };
    const sendOne = async (n: Notice) => {
      const c = prepared.contacts.get(n.contactId);
      if (!c || !c.waId || c.doNotContact) {
        tally.skipped++;
        return;
      }
      try {
        const r = await sendToContact(deps, {
          tenantId,
          contactId: n.contactId,
          updateId: n.updateId,
          content: {
            type: 'template',
            name: prepared.templates[template],
            language: prepared.templates.language,
            components: [{ type: 'body', parameters: n.parameters.map((text) => ({ type: 'text', text })) }],
          },
        });
        if (r.status === 'failed') tally.failed++;
        else tally.sent++;
      } catch (err) {
        tally.failed++;
        log.warn('consortium notice not sent', { tenantId, contactId: n.contactId, template, error: (err as Error).message });
      }
    };
    // A few members at a time: each send waits for its conversation, the number's pacing holds the rest.
    for (let i = 0; i < notices.length; i += NOTICE_BATCH) await Promise.all(notices.slice(i, i + NOTICE_BATCH).map(sendOne));
    return tally;
  }

  const memberName = (c: Contact | undefined) => c?.name ?? c?.profileName ?? 'Consorciado(a)';

  async function contactsOf(tenantId: string, ids: string[]): Promise<Map<string, Contact>> {
    const rows = await withTenant(knex, tenantId, async (trx) => Contact.query(trx).whereIn('id', ids));
    return new Map(rows.map((c) => [c.id, c]));
  }

  return {
    // The month's row, inserted once (UNIQUE group+month): a retry, a continued run or a second
    // start finds it. A closed month is reported as such and left untouched.
    async openAssembly(a: { tenantId: string; groupId: string; month: string; workflowId: string; biddingClosesAt: string | null }): Promise<OpenedAssemblyFacts> {
      const facts = await withTenant(knex, a.tenantId, async (trx) => {
        const group = await groupOf(trx, a.groupId);
        const settings = await settingsOf(trx, a.tenantId);
        let row = await ConsortiumAssembly.query(trx).where({ groupId: a.groupId, month: a.month }).first();
        if (!row) {
          const rv = await rulesInForce(trx, a.groupId);
          const dates = assemblyDates(a.month, { assemblyDay: group.assemblyDay, installmentDueDay: group.installmentDueDay, timeZone: settings.timeZone }, rv.rules);
          await trx('consortium_assemblies')
            .insert({
              id: randomUUID(),
              tenantId: a.tenantId,
              groupId: a.groupId,
              month: a.month,
              status: 'bidding',
              workflowId: a.workflowId,
              ruleVersion: rv.version,
              assemblyDate: dates.assemblyDate,
              extractionDate: dates.extractionDate,
              biddingClosesAt: new Date(a.biddingClosesAt ?? dates.biddingClosesAt),
            })
            .onConflict(['group_id', 'month'])
            .ignore();
          row = await ConsortiumAssembly.query(trx).where({ groupId: a.groupId, month: a.month }).first();
          if (!row) throw new Error(`assembly row of ${a.groupId} ${a.month} missing after insert`);
        }
        const rules = await rulesOf(trx, a.groupId, row.ruleVersion);
        return {
          assemblyId: row.id,
          groupId: a.groupId,
          month: a.month,
          status: row.status,
          assemblyDate: row.assemblyDate,
          extractionDate: row.extractionDate,
          biddingClosesAt: new Date(row.biddingClosesAt).toISOString(),
          ruleVersion: row.ruleVersion,
          rules,
          group: { code: group.code, name: group.name, creditCents: group.creditCents, quotaCount: group.quotaCount },
          timeZone: settings.timeZone,
          alreadyClosed: row.status === 'closed',
          recordSha256: row.recordSha256,
        } satisfies OpenedAssemblyFacts;
      });
      if (!facts.alreadyClosed) await emitAssembly(a.tenantId, facts.assemblyId);
      return facts;
    },

    // Bidding is open: the members of active quotas are told, automations hear of it.
    async announceAssembly(a: { tenantId: string; assemblyId: string; workflowId: string }): Promise<{ sent: number; skipped: number; failed: number }> {
      const facts = await withTenant(knex, a.tenantId, async (trx) => {
        const asm = await assemblyOf(trx, a.assemblyId);
        const group = await groupOf(trx, asm.groupId);
        const settings = await settingsOf(trx, a.tenantId);
        const quotas = await ConsortiumQuota.query(trx).where({ groupId: asm.groupId, status: 'active' }).orderBy('number');
        return { asm, group, timeZone: settings.timeZone, quotas };
      });
      const { asm, group, quotas } = facts;
      const contacts = await contactsOf(a.tenantId, quotas.map((q) => q.contactId));
      const deadline = localDeadline(new Date(asm.biddingClosesAt).toISOString(), facts.timeZone);
      const tally = await notify(
        a.tenantId,
        'assemblyOpened',
        quotas.map((q) => ({
          contactId: q.contactId,
          updateId: `${a.workflowId}:opened:${q.id}`,
          parameters: [memberName(contacts.get(q.contactId)), `${group.code} — ${group.name}`, String(q.number), ddmmyyyy(asm.assemblyDate), deadline],
        })),
      );
      await startAutomationEvent(deps, a.tenantId, `assembly:${asm.id}:opened`, 'assembly.opened', {
        assemblyId: asm.id, groupId: asm.groupId, groupCode: group.code, month: asm.month, assemblyDate: asm.assemblyDate, extractionDate: asm.extractionDate,
        biddingClosesAt: new Date(asm.biddingClosesAt).toISOString(), ruleVersion: asm.ruleVersion,
      });
      await emitAssembly(a.tenantId, asm.id);
      return tally;
    },

    // The quota's standing at the time of a bid (today in the tenant's calendar); null when the
    // quota is not one of the group's.
    async quotaForBid(a: { tenantId: string; groupId: string; quotaId: string }): Promise<{ number: number; status: ConsortiumQuota['status']; upToDate: boolean } | null> {
      return withTenant(knex, a.tenantId, async (trx) => {
        const settings = await settingsOf(trx, a.tenantId);
        const quota = await ConsortiumQuota.query(trx).findById(a.quotaId);
        if (!quota || quota.groupId !== a.groupId) return null;
        const standings = await quotaStandings(trx, a.groupId, localParts(Date.now(), settings.timeZone).date, settings.timeZone);
        const s = standings.find((x) => x.quotaId === a.quotaId);
        return { number: quota.number, status: quota.status, upToDate: s?.upToDate ?? true };
      });
    },

    // The bid, and the quota's previous live bid marked replaced, in one transaction (the partial
    // unique index holds one live bid per quota). The id is the workflow's: a retry finds it.
    async recordBid(a: { tenantId: string; assemblyId: string; bid: LiveBid }): Promise<void> {
      const { bid } = a;
      const inserted = await withTenant(knex, a.tenantId, async (trx) => {
        if (await ConsortiumBid.query(trx).findById(bid.bidId)) return null;
        await trx('consortium_bids').where({ assemblyId: a.assemblyId, quotaId: bid.quotaId, status: 'live' }).update({ status: 'replaced', updatedAt: new Date() });
        await trx('consortium_bids').insert({
          id: bid.bidId, tenantId: a.tenantId, assemblyId: a.assemblyId, quotaId: bid.quotaId, quotaNumber: bid.quota, type: bid.type, percent: bid.percent,
          amountCents: bid.amountCents, status: 'live', placedBy: JSON.stringify(bid.actor), placedAt: new Date(bid.placedAt),
        });
        const asm = await assemblyOf(trx, a.assemblyId);
        return asm;
      });
      if (!inserted) return;
      await startAutomationEvent(deps, a.tenantId, `bid:${bid.bidId}:placed`, 'bid.placed', {
        bidId: bid.bidId, assemblyId: a.assemblyId, groupId: inserted.groupId, month: inserted.month, quotaId: bid.quotaId, quota: bid.quota, type: bid.type,
        percent: bid.percent, amountCents: bid.amountCents, placedAt: bid.placedAt,
      });
      await emitAssembly(a.tenantId, a.assemblyId);
    },

    async withdrawBidRow(a: { tenantId: string; assemblyId: string; bidId: string }): Promise<void> {
      await withTenant(knex, a.tenantId, async (trx) =>
        trx('consortium_bids').where({ id: a.bidId, assemblyId: a.assemblyId, status: 'live' }).update({ status: 'withdrawn', updatedAt: new Date() }),
      );
      await emitAssembly(a.tenantId, a.assemblyId);
    },

    async setAssemblyStatus(a: { tenantId: string; assemblyId: string; status: AssemblyStatus }): Promise<void> {
      await withTenant(knex, a.tenantId, async (trx) =>
        trx('consortium_assemblies').where({ id: a.assemblyId }).whereNot({ status: 'closed' }).update({ status: a.status, updatedAt: new Date() }),
      );
      await emitAssembly(a.tenantId, a.assemblyId);
    },

    // The close of bidding: standings as of the extraction date; exclusions (never of a
    // contemplated quota); live bids of ineligible quotas marked; the fund. A retry finds the
    // exclusions this assembly made by their reason and makes no new ones.
    async freezeAssembly(a: { tenantId: string; assemblyId: string }): Promise<FrozenAssembly> {
      return withTenant(knex, a.tenantId, async (trx) => {
        const asm = await assemblyOf(trx, a.assemblyId, true);
        const group = await groupOf(trx, asm.groupId);
        const rules = await rulesOf(trx, asm.groupId, asm.ruleVersion);
        const settings = await settingsOf(trx, a.tenantId);
        const standings = await quotaStandings(trx, asm.groupId, asm.extractionDate, settings.timeZone);
        const now = new Date();
        for (const s of standings) {
          if (!shouldExclude(s.status, s.consecutiveMissed, rules.exclusionAfterUnpaid)) continue;
          await ConsortiumQuota.query(trx)
            .patch({
              status: 'excluded',
              excludedAt: now,
              exclusionReason: `${exclusionPrefix(asm.month)} ${s.consecutiveMissed} parcela(s) consecutiva(s) sem pagamento (o grupo exclui a partir de ${rules.exclusionAfterUnpaid}).`,
              restitutionCents: s.commonFundPaidCents,
              updatedAt: now,
            })
            .where({ id: s.quotaId, status: 'active' });
        }
        const quotaRows = await ConsortiumQuota.query(trx).where({ groupId: asm.groupId }).orderBy('number');
        const standingOf = new Map(standings.map((s) => [s.quotaId, s]));
        const quotas: AssemblyQuota[] = quotaRows.map((q) => ({
          number: q.number,
          status: q.status,
          upToDate: standingOf.get(q.id)?.upToDate ?? true,
          restitutionCents: q.status === 'excluded' ? Number(q.restitutionCents ?? standingOf.get(q.id)?.commonFundPaidCents ?? 0) : 0,
          restituted: q.restitutedAt !== null,
        }));
        const excludedQuotas = quotaRows.filter((q) => q.status === 'excluded' && (q.exclusionReason ?? '').startsWith(exclusionPrefix(asm.month))).map((q) => q.number);

        const byNumber = new Map(quotas.map((q) => [q.number, q]));
        const live = await ConsortiumBid.query(trx).where({ assemblyId: asm.id }).whereIn('status', ['live', 'ineligible']).orderBy('quotaNumber');
        for (const b of live) {
          const q = byNumber.get(b.quotaNumber);
          const reason = !q || q.status !== 'active' ? 'Cota não está ativa na data da extração.' : !q.upToDate ? 'Cota em atraso na data da extração.' : null;
          if (reason && b.status === 'live') await ConsortiumBid.query(trx).patch({ status: 'ineligible', reason, updatedAt: now }).where({ id: b.id });
        }
        const fund = await groupFund(trx, asm.groupId);
        return {
          inputs: { groupId: asm.groupId, month: asm.month, quotaCount: group.quotaCount, creditCents: group.creditCents, ruleVersion: asm.ruleVersion, rules, quotas, fund },
          bids: live.map((b) => ({ id: b.id, quota: b.quotaNumber, type: b.type, percent: Number(b.percent), amountCents: Number(b.amountCents), placedAt: new Date(b.placedAt).toISOString() })),
          excludedQuotas,
        };
      });
    },

    // The exclusions the freeze made: events, the quotas' cards and the members' notices.
    async announceExclusions(a: { tenantId: string; assemblyId: string; workflowId: string; quotas: number[] }): Promise<void> {
      if (a.quotas.length === 0) return;
      const { rows, group } = await withTenant(knex, a.tenantId, async (trx) => {
        const asm = await assemblyOf(trx, a.assemblyId);
        return { rows: await ConsortiumQuota.query(trx).where({ groupId: asm.groupId }).whereIn('number', a.quotas), group: await groupOf(trx, asm.groupId) };
      });
      const contacts = await contactsOf(a.tenantId, rows.map((q) => q.contactId));
      for (const q of rows) {
        await startAutomationEvent(deps, a.tenantId, `quota:${q.id}:excluded`, 'quota.excluded', {
          quotaId: q.id, groupId: q.groupId, number: q.number, contactId: q.contactId, reason: q.exclusionReason, restitutionCents: q.restitutionCents ?? 0, assemblyId: a.assemblyId,
        });
      }
      await emitQuotas(a.tenantId, rows.map((q) => q.id));
      await notify(
        a.tenantId,
        'quotaExcluded',
        rows.map((q) => ({
          contactId: q.contactId,
          updateId: `${a.workflowId}:excluded:${q.id}`,
          parameters: [memberName(contacts.get(q.contactId)), `${group.code} — ${group.name}`, String(q.number), q.exclusionReason ?? ''],
        })),
      );
    },

    async saveLottery(a: { tenantId: string; assemblyId: string; lottery: LotteryEntry; corrections: LotteryCorrection[] }): Promise<void> {
      await withTenant(knex, a.tenantId, async (trx) =>
        trx('consortium_assemblies')
          .where({ id: a.assemblyId })
          .whereNull('publishedAt')
          .update({ lottery: JSON.stringify(a.lottery), lotteryCorrections: JSON.stringify(a.corrections), updatedAt: new Date() }),
      );
      await emitAssembly(a.tenantId, a.assemblyId);
    },

    // The result as it stands (at publication, and after each winning bid is paid or unpaid):
    // contemplations inserted or moved on (pending → confirmed / disqualified), the quotas'
    // status and plans, the bids' outcomes, the result on the row. A paid bid is applied to its
    // quota's plan once: when its contemplation turns confirmed (embutido: at once).
    async recordAssemblyResult(a: {
      tenantId: string;
      assemblyId: string;
      workflowId: string;
      inputs: AssemblyInputs;
      result: AssemblyResult;
      status: AssemblyStatus;
      publishedAt: string;
      bidPaymentWindowMs?: number;
    }): Promise<{ pending: PendingBidPayment[] }> {
      const { result, inputs } = a;
      const done = await withTenant(knex, a.tenantId, async (trx) => {
        const asm = await assemblyOf(trx, a.assemblyId, true);
        const settings = await settingsOf(trx, a.tenantId);
        const quotas = await ConsortiumQuota.query(trx).where({ groupId: asm.groupId });
        const byNumber = new Map(quotas.map((q) => [q.number, q]));
        const existing = await ConsortiumContemplation.query(trx).where({ assemblyId: asm.id });
        const keyOf = (quotaId: string, kind: string) => `${quotaId}:${kind}`;
        const byKey = new Map(existing.map((c) => [keyOf(c.quotaId, c.kind), c]));
        const now = new Date();
        const due = a.bidPaymentWindowMs !== undefined ? new Date(now.getTime() + a.bidPaymentWindowMs) : bidPaymentDeadline(now.getTime(), inputs.rules.bidPaymentBusinessDays, settings.timeZone);
        const contemplated: { quota: ConsortiumQuota; c: Contemplation }[] = [];
        const changed = new Set<string>();
        const pending: PendingBidPayment[] = [];

        const applyBid = async (q: ConsortiumQuota, bidCents: number) => {
          const fresh = (await ConsortiumQuota.query(trx).findById(q.id))!;
          const remaining = Math.max(0, fresh.installmentCount - fresh.installmentsIssued);
          const plan = applyWinningBid({ installmentCents: fresh.installmentCents, remaining, lastInstallmentCents: fresh.lastInstallmentCents }, bidCents, inputs.rules.bidApplication);
          await ConsortiumQuota.query(trx)
            .patch({ installmentCents: plan.installmentCents, installmentCount: fresh.installmentsIssued + plan.remaining, lastInstallmentCents: plan.lastInstallmentCents, updatedAt: now })
            .where({ id: q.id });
          changed.add(q.id);
        };

        for (const c of result.contemplations) {
          const q = byNumber.get(c.quota);
          if (!q) throw gone(`quota ${c.quota} of group ${asm.groupId}`);
          const ex = byKey.get(keyOf(q.id, c.kind));
          if (!ex) {
            const isPending = c.status === 'pending_payment';
            await trx('consortium_contemplations').insert({
              id: randomUUID(), tenantId: a.tenantId, assemblyId: asm.id, groupId: asm.groupId, quotaId: q.id, quotaNumber: q.number, kind: c.kind, status: c.status,
              bidId: c.bidId, creditCents: c.creditCents, restitutionCents: c.restitutionCents, fromReserveCents: c.fromReserveCents, bidPaidCents: 0,
              paymentDueAt: isPending ? due : null,
            });
            if (c.kind === 'excluded_draw') {
              await ConsortiumQuota.query(trx).patch({ restitutedAt: now, restitutionCents: c.restitutionCents, updatedAt: now }).where({ id: q.id });
            } else {
              await ConsortiumQuota.query(trx)
                .patch({ status: 'contemplated', contemplatedAt: now, contemplatedAssemblyId: asm.id, creditReleasedCents: c.creditCents, updatedAt: now })
                .where({ id: q.id });
              // Embutido: paid out of the credit, applied at once.
              if (c.kind === 'bid' && c.status === 'confirmed' && c.bidAmountCents) await applyBid(q, c.bidAmountCents);
            }
            contemplated.push({ quota: q, c });
            changed.add(q.id);
            if (isPending && c.bidId) pending.push({ bidId: c.bidId, quota: q.number, dueAt: due.toISOString() });
          } else if (ex.status === 'pending_payment' && c.status === 'confirmed') {
            await ConsortiumContemplation.query(trx).patch({ status: 'confirmed', paidAt: now, bidPaidCents: c.bidAmountCents ?? 0, updatedAt: now }).where({ id: ex.id });
            if (c.bidAmountCents) await applyBid(q, c.bidAmountCents);
          } else if (ex.status === 'pending_payment' && c.bidId) {
            pending.push({ bidId: c.bidId, quota: q.number, dueAt: new Date(ex.paymentDueAt!).toISOString() });
          }
        }

        // A pending bid the result now disqualifies: the contemplation falls, the quota is active again.
        const disqualified: { quota: ConsortiumQuota; bidId: string }[] = [];
        for (const ex of existing) {
          if (ex.status !== 'pending_payment' || !ex.bidId) continue;
          if (result.bidOutcomes[ex.bidId]?.outcome !== 'disqualified') continue;
          await ConsortiumContemplation.query(trx).patch({ status: 'disqualified', disqualifiedAt: now, updatedAt: now }).where({ id: ex.id });
          await ConsortiumQuota.query(trx)
            .patch({ status: 'active', contemplatedAt: null, contemplatedAssemblyId: null, creditReleasedCents: null, updatedAt: now })
            .where({ id: ex.quotaId, status: 'contemplated' });
          disqualified.push({ quota: quotas.find((q) => q.id === ex.quotaId)!, bidId: ex.bidId });
          changed.add(ex.quotaId);
        }

        for (const [bidId, o] of Object.entries(result.bidOutcomes)) {
          await trx('consortium_bids').where({ id: bidId, assemblyId: asm.id }).update({ status: BID_STATUS_OF[o.outcome], reason: o.reason, updatedAt: now });
        }
        await trx('consortium_assemblies')
          .where({ id: asm.id })
          .update({ result: JSON.stringify(result), publishedAt: asm.publishedAt ?? new Date(a.publishedAt), status: a.status, updatedAt: now });
        const group = await groupOf(trx, asm.groupId);
        return { asm, group, contemplated, disqualified, changed: [...changed], pending, byNumber };
      });

      const { asm, group } = done;
      // The events go out for every contemplation and disqualification the result holds, not only
      // what this call changed: their keys post each once, and a retry after a commit whose events
      // were not all posted finishes them. (The members' notices go for what changed only.)
      const eventContemplations = result.contemplations
        .filter((c) => c.status !== 'disqualified')
        .flatMap((c) => {
          const quota = done.byNumber.get(c.quota);
          return quota ? [{ quota, c }] : [];
        });
      const eventDisqualifications = Object.entries(result.bidOutcomes)
        .filter(([, o]) => o.outcome === 'disqualified')
        .flatMap(([bidId]) => {
          const quota = done.byNumber.get(inputs.bids.find((b) => b.id === bidId)?.quota ?? -1);
          return quota ? [{ quota, bidId }] : [];
        });
      const contacts = await contactsOf(a.tenantId, [...done.contemplated.map((x) => x.quota.contactId), ...done.disqualified.map((x) => x.quota.contactId)]);
      for (const { quota, c } of eventContemplations) {
        await startAutomationEvent(deps, a.tenantId, `quota:${quota.id}:contemplated:${asm.id}:${c.kind}`, 'quota.contemplated', {
          quotaId: quota.id, groupId: asm.groupId, number: quota.number, contactId: quota.contactId, assemblyId: asm.id, month: asm.month, kind: c.kind, status: c.status,
          creditCents: c.creditCents, restitutionCents: c.restitutionCents, bidId: c.bidId, bidPercent: c.bidPercent, bidAmountCents: c.bidAmountCents,
        });
      }
      for (const { quota, bidId } of eventDisqualifications) {
        await startAutomationEvent(deps, a.tenantId, `bid:${bidId}:disqualified`, 'bid.disqualified', {
          bidId, quotaId: quota.id, groupId: asm.groupId, number: quota.number, contactId: quota.contactId, assemblyId: asm.id, month: asm.month, reason: result.bidOutcomes[bidId]?.reason ?? null,
        });
      }
      await emitQuotas(a.tenantId, done.changed);
      await emitAssembly(a.tenantId, asm.id);
      const groupText = `${group.code} — ${group.name}`;
      await notify(
        a.tenantId,
        'contemplated',
        done.contemplated.map(({ quota, c }) => ({
          contactId: quota.contactId,
          updateId: `${a.workflowId}:contemplated:${quota.id}:${c.kind}`,
          parameters: [
            memberName(contacts.get(quota.contactId)), groupText, String(quota.number), KIND_TEXT[c.kind],
            c.kind === 'excluded_draw' ? formatBrl(c.restitutionCents) : formatBrl(c.creditCents),
          ],
        })),
      );
      await notify(
        a.tenantId,
        'bidDisqualified',
        done.disqualified.map(({ quota, bidId }) => ({
          contactId: quota.contactId,
          updateId: `${a.workflowId}:disqualified:${bidId}`,
          parameters: [memberName(contacts.get(quota.contactId)), groupText, String(quota.number), result.bidOutcomes[bidId]?.reason ?? 'Lance vencedor não pago no prazo.'],
        })),
      );
      return { pending: done.pending };
    },

    // The sealed record on the row and the assembly closed; a retry (or a closed row) gives the
    // hash it has.
    async closeAssembly(a: { tenantId: string; body: AssemblyRecordBody }): Promise<{ recordSha256: string }> {
      const record = sealAssemblyRecord(a.body);
      const r = await withTenant(knex, a.tenantId, async (trx) => {
        const asm = await assemblyOf(trx, a.body.assemblyId, true);
        if (asm.status === 'closed' && asm.recordSha256) return { sha: asm.recordSha256, first: false, asm };
        await trx('consortium_assemblies')
          .where({ id: asm.id })
          .update({ status: 'closed', record: JSON.stringify(record), recordSha256: record.sha256, closedAt: new Date(a.body.closedAt), updatedAt: new Date() });
        return { sha: record.sha256, first: true, asm };
      });
      if (r.first) {
        await startAutomationEvent(deps, a.tenantId, `assembly:${r.asm.id}:closed`, 'assembly.closed', {
          assemblyId: r.asm.id, groupId: r.asm.groupId, month: r.asm.month, recordSha256: r.sha,
          contemplated: record.result.contemplations.filter((c) => c.status === 'confirmed').map((c) => ({ quota: c.quota, kind: c.kind })),
        });
      }
      await emitAssembly(a.tenantId, r.asm.id);
      return { recordSha256: r.sha };
    },

    // The schedule's firing: the month whose bidding is open now (the current or the next one,
    // by the group's calendar), and that month's installments for every active or contemplated
    // quota, issued once (a second firing finds them); after commit, each new invoice's dunning.
    async prepareMonthlyAssembly(a: { tenantId: string; groupId: string; asOf?: string }): Promise<MonthToOpen> {
      const r = await withTenant(knex, a.tenantId, async (trx) => {
        const group = await groupOf(trx, a.groupId);
        if (group.status !== 'active') return null;
        const settings = await settingsOf(trx, a.tenantId);
        const nowMs = a.asOf ? Date.parse(a.asOf) : Date.now();
        const today = localParts(nowMs, settings.timeZone).date;
        const rv = await rulesInForce(trx, a.groupId, new Date(nowMs));
        const terms = { assemblyDay: group.assemblyDay, installmentDueDay: group.installmentDueDay, timeZone: settings.timeZone };
        const lastMonth = addMonths(group.firstAssemblyMonth, group.termMonths - 1);
        const month = [monthOfDate(today), addMonths(monthOfDate(today), 1)]
          .filter((m) => m >= group.firstAssemblyMonth && m <= lastMonth)
          .find((m) => {
            const d = assemblyDates(m, terms, rv.rules);
            return d.biddingOpensOn <= today && nowMs < Date.parse(d.biddingClosesAt);
          });
        if (!month) return null;
        const dates = assemblyDates(month, terms, rv.rules);
        const quotas = await ConsortiumQuota.query(trx).where({ groupId: a.groupId }).whereIn('status', ['active', 'contemplated']).orderBy('number');
        const issued: Invoice[] = [];
        for (const q of quotas) {
          const inv = await issueInstallment(trx, group, q, { month, dueDate: dates.installmentDueDate, ...settings.billing.lateCharges }, dunningWorkflowId);
          if (inv) issued.push(inv);
        }
        return { month, issued };
      });
      if (!r) return { month: null, issuedInvoiceIds: [] };
      for (const inv of r.issued) await startOnce(deps, dunningStart({ tenantId: a.tenantId, invoiceId: inv.id }));
      return { month: r.month, issuedInvoiceIds: r.issued.map((i) => i.id) };
    },
  };
}

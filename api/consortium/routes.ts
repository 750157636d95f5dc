import { randomUUID } from 'node:crypto';
import { ScheduleAlreadyRunning } from '@temporalio/client';
import type { Knex } from 'knex';
import { z } from 'zod';
import { tenantToday } from '../../activities/billing-schedules';
import { recordAudit } from '../../db/audit';
import { groupFund, insertGroup, insertQuota, publishRules, quotaStandings, rulesInForce } from '../../db/consortium';
import { ConsortiumAssembly, ConsortiumBid, ConsortiumGroup, ConsortiumQuota, ConsortiumRuleVersion, Contact } from '../../db/models';
import { isUniqueViolation, withTenant } from '../../db/tenant-scope';
import { addMonths, assemblyCalendar, assemblyDates, monthOfDate, type AssemblyDates } from '../../domain/assembly-calendar';
import { DEFAULT_GROUP_RULES, drawRuleFits, type GroupRules } from '../../domain/consortium-rules';
import { CONSORTIUM_ROLES } from '../../domain/roles';
import { normalizeTaxId } from '../../domain/tax-id';
import {
  assemblyScheduleId,
  assemblyStart,
  assemblyViewQuery,
  assemblyWorkflowId,
  confirmBidPaymentUpdate,
  enterLotteryResultUpdate,
  placeBidUpdate,
  publishResultUpdate,
  withdrawBidUpdate,
  type AssemblyView,
} from '../../workflows/assembly';
import { assemblyScheduleOptions } from '../../workflows/assembly/start';
import type { ApiDeps } from '../deps';
import { keysetPage, pageOf, pageQuery } from '../pagination';
import { badRequest, conflict, notFound } from '../problem';
import { route } from '../route';
import { callWorkflow, queryBestEffort, startWorkflow, taskQueues } from '../workflow-calls';
import {
  assemblyLiveView,
  assemblyRowView,
  bidIdParams,
  calendarEntryView,
  calendarQuery,
  createGroupBody,
  createQuotaBody,
  groupParams,
  groupView,
  lotteryBody,
  monthParams,
  placeBidBody,
  publishRulesBody,
  quotaNumberParams,
  quotaView,
  ruleVersionView,
  startAssemblyBody,
  toAssemblyRowView,
  toGroupView,
  toQuotaView,
  toRuleVersionView,
} from './schema';

// Consortium administration (issue 10): groups with their versioned rules and their assembly
// schedule, members' quotas, the calendar and the group's report, and each month's assembly as
// staff and automations act on it — bids, the Loteria Federal result, publication, a winning
// bid's payment — each an update of the month's assembly workflow, which refuses in pt-BR what
// it cannot take. Rows are committed before Temporal is called.

const read = { roles: CONSORTIUM_ROLES, scopes: ['consortium:read' as const] };
const write = { roles: CONSORTIUM_ROLES, scopes: ['consortium:write' as const] };
const bids = { roles: CONSORTIUM_ROLES, scopes: ['bids:write' as const] };
const lottery = { roles: CONSORTIUM_ROLES, scopes: ['lottery:write' as const] };

const GROUP_NOT_FOUND = 'Grupo de consórcio não encontrado.';
const ASSEMBLY_NOT_FOUND = 'Assembleia não encontrada para este mês.';
const NOT_RUNNING = () => conflict('A assembleia deste mês não está em andamento.');
const brMonth = (m: string) => `${m.slice(5, 7)}/${m.slice(0, 4)}`;

async function groupOf(db: Knex.Transaction, id: string, lock = false): Promise<ConsortiumGroup> {
  const qb = ConsortiumGroup.query(db).findById(id);
  const group = await (lock ? qb.forUpdate() : qb);
  if (!group) throw notFound(GROUP_NOT_FOUND);
  return group;
}

function drawRuleProblem(rules: GroupRules, quotaCount: number) {
  return badRequest(
    rules.drawRule === 'radial'
      ? `A regra de sorteio radial serve para grupos de até 99.999 cotas; este grupo tem ${quotaCount}.`
      : `A regra de sorteio ${rules.drawRule} serve para grupos de até 1.000 cotas; este grupo tem ${quotaCount}.`,
    [{ path: 'body.rules.drawRule', message: 'regra de sorteio incompatível com o número de cotas' }],
  );
}

// The group's calendar from the next assembly to come (this month's, unless its date has passed),
// never before the group's first assembly.
function upcoming(group: ConsortiumGroup, rules: GroupRules, timeZone: string, today: string, count: number): AssemblyDates[] {
  const terms = { assemblyDay: group.assemblyDay, installmentDueDay: group.installmentDueDay, timeZone };
  let from = monthOfDate(today) > group.firstAssemblyMonth ? monthOfDate(today) : group.firstAssemblyMonth;
  if (assemblyDates(from, terms, rules).assemblyDate < today) from = addMonths(from, 1);
  return assemblyCalendar(from, count, terms, rules);
}

async function assemblyRow(db: Knex.Transaction, groupId: string, month: string): Promise<ConsortiumAssembly | undefined> {
  return ConsortiumAssembly.query(db).where({ groupId, month }).first();
}

// The month's assembly, to act on: it exists and is not closed (nothing reopens).
async function runningAssembly(db: Knex.Transaction, groupId: string, month: string): Promise<ConsortiumAssembly> {
  const row = await assemblyRow(db, groupId, month);
  if (!row) throw notFound(ASSEMBLY_NOT_FOUND);
  if (row.status === 'closed') throw conflict(`A assembleia de ${brMonth(month)} já foi encerrada: nada reabre.`);
  return row;
}

const assemblyHandle = (deps: ApiDeps, tenantId: string, groupId: string, month: string) => deps.temporal.client.workflow.getHandle(assemblyWorkflowId(tenantId, groupId, month));
const updateId = (kind: string, key: string | undefined) => (key ? { updateId: `${kind}:${key}` } : {});

// --- Groups ------------------------------------------------------------------------------------

export const createGroup = route({
  method: 'post',
  path: '/consortium/groups',
  summary: 'Creates a consortium group, its rules (version 1) and its assembly schedule',
  tags: ['consortium'],
  access: write,
  body: createGroupBody,
  responses: {
    201: { description: 'Created, with its monthly installment and rules in force', schema: groupView },
    200: { description: 'The same group asked again (a retry): its schedule is ensured', schema: groupView },
    400: { description: 'Invalid terms or rules (a draw rule that does not fit the quota count)' },
    409: { description: 'A different group with this code exists' },
  },
  async handler({ body, deps, tenantId, actor, db, audit }) {
    const rules = body.rules ?? DEFAULT_GROUP_RULES;
    if (!drawRuleFits(rules.drawRule, body.quotaCount)) throw drawRuleProblem(rules, body.quotaCount);
    let created: { group: ConsortiumGroup; rules: ConsortiumRuleVersion; timeZone: string; retry: boolean };
    try {
      created = await withTenant(deps.knex, tenantId, async (trx) => {
        const { timeZone } = await tenantToday(trx, tenantId);
        const r = await insertGroup(trx, { tenantId, ...body, rules, createdBy: actor.type === 'user' ? actor.id : null }, assemblyScheduleId);
        return { ...r, timeZone, retry: false };
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // The code is the group's business key: the same group asked again is a retry (say, after
      // a 503 creating its schedule), answered with the group and its schedule ensured.
      const existing = await ConsortiumGroup.query(db).where({ code: body.code }).first();
      const v1 = existing && (await ConsortiumRuleVersion.query(db).where({ groupId: existing.id, version: 1 }).first());
      if (!existing || !v1 || !sameGroup(existing, v1.rules, body, rules)) throw conflict(`Já existe um grupo com o código ${body.code}.`);
      created = { group: existing, rules: await rulesInForce(db, existing.id), timeZone: (await tenantToday(db, tenantId)).timeZone, retry: true };
    }
    const { group, timeZone } = created;
    // Committed first: a schedule Temporal cannot take now is a 503, and the group's row says
    // which schedule to (re)create; one that exists already is the same schedule.
    await callWorkflow(
      deps,
      async () => {
        try {
          await deps.temporal.client.schedule.create(assemblyScheduleOptions(group, timeZone, taskQueues(deps).main));
        } catch (err) {
          if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        }
      },
      { deadlineMs: 15_000 },
    );
    if (created.retry) return { status: 200, body: toGroupView(group, created.rules) };
    await audit({ action: 'consortium_group.created', entityType: 'consortium_group', entityId: group.id, details: { code: group.code, quotaCount: group.quotaCount, creditCents: group.creditCents, ruleVersion: 1 } });
    return { status: 201, headers: { location: `/api/consortium/groups/${group.id}` }, body: toGroupView(group, created.rules) };
  },
});

function sameGroup(g: ConsortiumGroup, firstRules: GroupRules, body: z.infer<typeof createGroupBody>, rules: GroupRules): boolean {
  const terms = ['name', 'creditCents', 'termMonths', 'adminFeePercent', 'reserveFundPercent', 'quotaCount', 'assemblyDay', 'installmentDueDay', 'firstAssemblyMonth'] as const;
  return terms.every((k) => g[k] === body[k]) && canonical(firstRules) === canonical(rules);
}

// Key order does not make two rule sets different.
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export const listGroups = route({
  method: 'get',
  path: '/consortium/groups',
  summary: 'Consortium groups, newest first (keyset pages)',
  tags: ['consortium'],
  access: read,
  query: pageQuery,
  responses: { 200: { description: 'A page of groups', schema: pageOf(groupView) } },
  async handler({ query, db }) {
    const page = await keysetPage(ConsortiumGroup.query(db), query);
    const items = await Promise.all(page.rows.map(async (g) => toGroupView(g, await rulesInForce(db, g.id))));
    return { body: { items, nextCursor: page.nextCursor } };
  },
});

export const getGroup = route({
  method: 'get',
  path: '/consortium/groups/:groupId',
  summary: 'A group with its rules in force and its monthly installment',
  tags: ['consortium'],
  access: read,
  params: groupParams,
  responses: { 200: { description: 'The group', schema: groupView }, 404: { description: 'No such group' } },
  async handler({ params, db }) {
    const group = await groupOf(db, params.groupId);
    return { body: toGroupView(group, await rulesInForce(db, group.id)) };
  },
});

export const publishGroupRules = route({
  method: 'put',
  path: '/consortium/groups/:groupId/rules',
  summary: 'Publishes a new version of the group’s rules; earlier versions stay for the assemblies that used them',
  tags: ['consortium'],
  access: write,
  params: groupParams,
  body: publishRulesBody,
  responses: { 200: { description: 'The version published', schema: ruleVersionView }, 400: { description: 'Invalid rules' }, 404: { description: 'No such group' }, 409: { description: 'The group is closed' } },
  async handler({ params, body, db, actor, audit }) {
    const group = await groupOf(db, params.groupId);
    if (group.status === 'closed') throw conflict('O grupo está encerrado: o regulamento não muda mais.');
    if (!drawRuleFits(body.rules.drawRule, group.quotaCount)) throw drawRuleProblem(body.rules, group.quotaCount);
    const version = await publishRules(db, group, body.rules, actor.type === 'user' ? actor.id : null, body.note);
    await audit({ action: 'consortium_rules.published', entityType: 'consortium_group', entityId: group.id, details: { version: version.version, note: body.note } });
    return { body: toRuleVersionView(version) };
  },
});

export const listGroupRules = route({
  method: 'get',
  path: '/consortium/groups/:groupId/rules',
  summary: 'The history of the group’s rules: every version, who published it, when and why',
  tags: ['consortium'],
  access: read,
  params: groupParams,
  responses: { 200: { description: 'Versions, oldest first', schema: z.object({ items: z.array(ruleVersionView) }) }, 404: { description: 'No such group' } },
  async handler({ params, db }) {
    const group = await groupOf(db, params.groupId);
    const versions = await ConsortiumRuleVersion.query(db).where({ groupId: group.id }).orderBy('version');
    return { body: { items: versions.map(toRuleVersionView) } };
  },
});

// --- Quotas ------------------------------------------------------------------------------------

export const createQuota = route({
  method: 'post',
  path: '/consortium/groups/:groupId/quotas',
  summary: 'Sells a quota to a member (CPF or CNPJ validated): the given number or the lowest free one',
  tags: ['consortium'],
  access: write,
  params: groupParams,
  body: createQuotaBody,
  // A retry of a sale must not sell a second quota.
  idempotencyKey: true,
  responses: {
    201: { description: 'The quota', schema: quotaView },
    200: { description: 'The same Idempotency-Key: the quota the first call sold', schema: quotaView },
    400: { description: 'Invalid CPF/CNPJ or quota number' },
    404: { description: 'No such group' },
    409: { description: 'The group is full, the number is taken, or the phone belongs to another CPF/CNPJ' },
  },
  async handler({ params, body, deps, tenantId, actor, requestId, idempotencyKey }) {
    const taxId = normalizeTaxId(body.taxId);
    if (!taxId) throw badRequest('CPF ou CNPJ inválido.', [{ path: 'body.taxId', message: 'os dígitos verificadores não conferem' }]);
    const waId = body.phone.slice(1);
    const made = await withTenant(deps.knex, tenantId, async (trx) => {
      // The group's row lock serializes quota numbers: two sales never get the same free number.
      const group = await groupOf(trx, params.groupId, true);
      // The sale's audit entry carries its key, written with the quota: under the group's lock,
      // a retry finds the first sale's entry and answers with its quota.
      if (idempotencyKey) {
        const sold = await trx('audit_events').where({ action: 'consortium_quota.created', entityType: 'consortium_quota' }).whereRaw("details->>'idempotencyKey' = ?", [idempotencyKey]).first('entityId');
        const quota = sold && (await ConsortiumQuota.query(trx).findById(sold.entityId));
        if (quota && quota.groupId === group.id) return { quota, contact: await Contact.query(trx).findById(quota.contactId), again: true };
      }
      if (group.status === 'closed') throw conflict('O grupo está encerrado.');
      if (body.number !== undefined && body.number > group.quotaCount) {
        throw badRequest(`A cota deve estar entre 1 e ${group.quotaCount}.`, [{ path: 'body.number', message: `de 1 a ${group.quotaCount}` }]);
      }
      const taken = (await ConsortiumQuota.query(trx).where({ groupId: group.id }).select('number').orderBy('number')).map((q) => q.number);
      if (taken.length >= group.quotaCount) throw conflict(`O grupo está completo: as ${group.quotaCount} cotas já foram vendidas.`);
      let number = body.number;
      if (number !== undefined && taken.includes(number)) throw conflict(`A cota ${number} já pertence a outro consorciado.`);
      if (number === undefined) {
        number = 1;
        for (const t of taken) if (t === number) number++;
      }
      const contact = await memberContact(trx, tenantId, { name: body.name, waId, document: taxId.digits });
      const { today } = await tenantToday(trx, tenantId);
      const quota = await insertQuota(trx, { tenantId, group, number, contactId: contact.id, joinedOn: body.joinedOn ?? today });
      await recordAudit(trx, {
        tenantId,
        actor,
        requestId,
        action: 'consortium_quota.created',
        entityType: 'consortium_quota',
        entityId: quota.id,
        details: { groupId: group.id, number: quota.number, contactId: contact.id, ...(idempotencyKey ? { idempotencyKey } : {}) },
      });
      return { quota, contact, again: false };
    });
    return { status: made.again ? 200 : 201, body: toQuotaView(made.quota, made.contact, undefined) };
  },
});

// The member's contact: the one with this CPF/CNPJ, else the one with this number (given the
// document), else a new one. A number already known under another document is not taken over.
async function memberContact(trx: Knex.Transaction, tenantId: string, m: { name: string; waId: string; document: string }): Promise<Contact> {
  const byDocument = await Contact.query(trx).where({ document: m.document }).orderBy('createdAt').first();
  if (byDocument) return byDocument;
  const byPhone = await Contact.query(trx).where({ waId: m.waId }).first();
  if (byPhone) {
    if (byPhone.document && byPhone.document !== m.document) throw conflict('Este telefone já pertence a um contato com outro CPF/CNPJ.');
    return Contact.query(trx).patchAndFetchById(byPhone.id, { document: m.document, name: byPhone.name ?? m.name, updatedAt: new Date() });
  }
  return Contact.query(trx).insertAndFetch({ id: randomUUID(), tenantId, waId: m.waId, name: m.name, document: m.document });
}

export const listQuotas = route({
  method: 'get',
  path: '/consortium/groups/:groupId/quotas',
  summary: 'The group’s quotas with their status and standing today (up to date, consecutive missed)',
  tags: ['consortium'],
  access: read,
  params: groupParams,
  responses: { 200: { description: 'Quotas by number', schema: z.object({ items: z.array(quotaView) }) }, 404: { description: 'No such group' } },
  async handler({ params, db, tenantId }) {
    const group = await groupOf(db, params.groupId);
    const { today, timeZone } = await tenantToday(db, tenantId);
    const quotas = await ConsortiumQuota.query(db).where({ groupId: group.id }).orderBy('number');
    const standings = new Map((await quotaStandings(db, group.id, today, timeZone)).map((s) => [s.quotaId, s]));
    const contacts = new Map(
      (await Contact.query(db).whereIn('id', [...new Set(quotas.map((q) => q.contactId))]).select('id', 'name', 'waId', 'document')).map((c) => [c.id, c]),
    );
    return { body: { items: quotas.map((q) => toQuotaView(q, contacts.get(q.contactId), standings.get(q.id))) } };
  },
});

// --- Calendar and report ------------------------------------------------------------------------

export const groupCalendar = route({
  method: 'get',
  path: '/consortium/groups/:groupId/calendar',
  summary: 'The group’s assembly calendar from the next assembly: dates, extraction, bidding window, installment due',
  tags: ['consortium'],
  access: read,
  params: groupParams,
  query: calendarQuery,
  responses: { 200: { description: 'One entry per month', schema: z.object({ timeZone: z.string(), items: z.array(calendarEntryView) }) }, 404: { description: 'No such group' } },
  async handler({ params, query, db, tenantId }) {
    const group = await groupOf(db, params.groupId);
    const { today, timeZone } = await tenantToday(db, tenantId);
    const rules = (await rulesInForce(db, group.id)).rules;
    const months = upcoming(group, rules, timeZone, today, query.months);
    const rows = await ConsortiumAssembly.query(db).where({ groupId: group.id }).whereIn('month', months.map((m) => m.month));
    const byMonth = new Map(rows.map((r) => [r.month, r]));
    const items = months.map((m) => {
      const row = byMonth.get(m.month);
      return { ...m, assembly: row ? { id: row.id, status: row.status } : null };
    });
    return { body: { timeZone, items } };
  },
});

const reportView = z.object({
  asOf: z.string(),
  fund: z.object({ commonCents: z.number(), reserveCents: z.number() }),
  contemplated: z.array(z.object({ quotaNumber: z.number(), kind: z.string(), status: z.string(), month: z.string(), creditCents: z.number(), restitutionCents: z.number(), bidPaidCents: z.number() })),
  delinquent: z.array(z.object({ quotaId: z.uuid(), number: z.number(), status: z.string(), consecutiveMissed: z.number() })),
  excluded: z.array(z.object({ quotaId: z.uuid(), number: z.number(), excludedAt: z.string().nullable(), exclusionReason: z.string().nullable(), commonFundPaidCents: z.number(), restitutedAt: z.string().nullable() })),
  nextAssembly: calendarEntryView.omit({ assembly: true }).nullable(),
});

export const groupReport = route({
  method: 'get',
  path: '/consortium/groups/:groupId/report',
  summary: 'The group’s report: fund balance, contemplated so far, delinquent and excluded quotas, next assembly',
  tags: ['consortium'],
  access: read,
  params: groupParams,
  responses: { 200: { description: 'The report', schema: reportView }, 404: { description: 'No such group' } },
  async handler({ params, db, tenantId }) {
    const group = await groupOf(db, params.groupId);
    const { today, timeZone } = await tenantToday(db, tenantId);
    const fund = await groupFund(db, group.id);
    const contemplations = (await db('consortium_contemplations as c')
      .join('consortium_assemblies as a', 'a.id', 'c.assembly_id')
      .where('c.group_id', group.id)
      .whereNot('c.status', 'disqualified')
      .orderBy([{ column: 'a.month' }, { column: 'c.created_at' }])
      .select('c.quota_number', 'c.kind', 'c.status', 'a.month', 'c.credit_cents', 'c.restitution_cents', 'c.bid_paid_cents')) as Record<string, string | number>[];
    const standings = await quotaStandings(db, group.id, today, timeZone);
    const quotas = new Map((await ConsortiumQuota.query(db).where({ groupId: group.id })).map((q) => [q.id, q]));
    const rules = (await rulesInForce(db, group.id)).rules;
    const next = group.status === 'closed' ? null : (upcoming(group, rules, timeZone, today, 1)[0] ?? null);
    return {
      body: {
        asOf: today,
        fund,
        contemplated: contemplations.map((c) => ({
          quotaNumber: Number(c.quotaNumber),
          kind: String(c.kind),
          status: String(c.status),
          month: String(c.month),
          creditCents: Number(c.creditCents),
          restitutionCents: Number(c.restitutionCents),
          bidPaidCents: Number(c.bidPaidCents),
        })),
        // An excluded quota is out of the plan; a contemplated one still owes its installments.
        delinquent: standings.filter((s) => s.status !== 'excluded' && !s.upToDate).map((s) => ({ quotaId: s.quotaId, number: s.number, status: s.status, consecutiveMissed: s.consecutiveMissed })),
        excluded: standings
          .filter((s) => s.status === 'excluded')
          .map((s) => {
            const q = quotas.get(s.quotaId);
            return {
              quotaId: s.quotaId,
              number: s.number,
              excludedAt: q?.excludedAt ? new Date(q.excludedAt).toISOString() : null,
              exclusionReason: q?.exclusionReason ?? null,
              commonFundPaidCents: s.commonFundPaidCents,
              restitutedAt: q?.restitutedAt ? new Date(q.restitutedAt).toISOString() : null,
            };
          }),
        nextAssembly: next,
      },
    };
  },
});

// --- Assemblies --------------------------------------------------------------------------------

export const startAssembly = route({
  method: 'post',
  path: '/consortium/groups/:groupId/assemblies',
  summary: 'Starts a month’s assembly by hand (the schedule does it otherwise); a closed month never reopens',
  tags: ['consortium'],
  access: write,
  params: groupParams,
  body: startAssemblyBody,
  idempotencyKey: true,
  responses: {
    202: { description: 'Started', schema: z.object({ workflowId: z.string(), month: z.string() }) },
    400: { description: 'A month before the group’s first assembly' },
    404: { description: 'No such group' },
    409: { description: 'The month’s assembly is running or closed' },
  },
  async handler({ params, body, db, deps, tenantId, audit }) {
    const group = await groupOf(db, params.groupId);
    if (group.status === 'closed') throw conflict('O grupo está encerrado.');
    if (body.month < group.firstAssemblyMonth) {
      throw badRequest(`A primeira assembleia do grupo é em ${brMonth(group.firstAssemblyMonth)}.`, [{ path: 'body.month', message: `a partir de ${group.firstAssemblyMonth}` }]);
    }
    const row = await assemblyRow(db, group.id, body.month);
    if (row?.status === 'closed') throw conflict(`A assembleia de ${brMonth(body.month)} já foi encerrada: nada reabre.`);
    if (row) throw conflict(`A assembleia de ${brMonth(body.month)} já está em andamento.`);
    const start = assemblyStart({ tenantId, groupId: group.id, month: body.month });
    await startWorkflow(deps, start, { onDuplicate: `A assembleia de ${brMonth(body.month)} já foi iniciada.` });
    await audit({ action: 'consortium_assembly.started', entityType: 'consortium_group', entityId: group.id, workflowId: start.workflowId, details: { month: body.month } });
    return { status: 202, body: { workflowId: start.workflowId, month: body.month } };
  },
});

export const listAssemblies = route({
  method: 'get',
  path: '/consortium/groups/:groupId/assemblies',
  summary: 'The group’s assemblies, newest month first',
  tags: ['consortium'],
  access: read,
  params: groupParams,
  responses: { 200: { description: 'Assemblies', schema: z.object({ items: z.array(assemblyRowView) }) }, 404: { description: 'No such group' } },
  async handler({ params, db }) {
    const group = await groupOf(db, params.groupId);
    const rows = await ConsortiumAssembly.query(db).where({ groupId: group.id }).orderBy('month', 'desc');
    return { body: { items: rows.map(toAssemblyRowView) } };
  },
});

export const getAssembly = route({
  method: 'get',
  path: '/consortium/groups/:groupId/assemblies/:month',
  summary: 'A month’s assembly: its row, and the workflow’s live view when it answers',
  tags: ['consortium'],
  access: read,
  params: monthParams,
  responses: {
    200: { description: 'The assembly', schema: z.object({ assembly: assemblyRowView.nullable(), live: assemblyLiveView.nullable() }) },
    404: { description: 'No such group or assembly' },
  },
  async handler({ params, db, deps, tenantId }) {
    const group = await groupOf(db, params.groupId);
    const row = await assemblyRow(db, group.id, params.month);
    const live = await queryBestEffort<AssemblyView>(deps, assemblyHandle(deps, tenantId, group.id, params.month), assemblyViewQuery);
    if (!row && !live) throw notFound(ASSEMBLY_NOT_FOUND);
    return { body: { assembly: row ? toAssemblyRowView(row) : null, live } };
  },
});

export const getAssemblyRecord = route({
  method: 'get',
  path: '/consortium/groups/:groupId/assemblies/:month/record',
  summary: 'The closed assembly’s sealed audit record (check it with `npm run verify:assembly -- <record.json>`)',
  tags: ['consortium'],
  access: read,
  params: monthParams,
  responses: { 200: { description: 'The record, as sealed', schema: z.record(z.string(), z.unknown()) }, 404: { description: 'No such assembly, or not closed yet' } },
  async handler({ params, db }) {
    const group = await groupOf(db, params.groupId);
    const row = await assemblyRow(db, group.id, params.month);
    if (!row?.record || row.status !== 'closed') throw notFound('A ata desta assembleia só existe depois do encerramento.');
    return { body: row.record };
  },
});

export const placeBid = route({
  method: 'post',
  path: '/consortium/groups/:groupId/assemblies/:month/bids',
  summary: 'Places a quota’s bid (replacing its earlier one) while bidding is open',
  tags: ['consortium'],
  access: bids,
  params: monthParams,
  body: placeBidBody,
  idempotencyKey: true,
  responses: {
    201: { description: 'The bid', schema: z.object({ bidId: z.string(), quota: z.number(), type: z.string(), percent: z.number(), amountCents: z.number(), replacedBidId: z.string().nullable() }) },
    404: { description: 'No such group, quota or assembly' },
    409: { description: 'Refused by the assembly (late, invalid, quota not eligible), with its reason' },
  },
  async handler({ params, body, db, deps, tenantId, actor, audit, idempotencyKey }) {
    const group = await groupOf(db, params.groupId);
    const quota = await ConsortiumQuota.query(db)
      .where({ groupId: group.id })
      .where(body.quotaId ? { id: body.quotaId } : { number: body.quotaNumber as number })
      .first();
    if (!quota) throw notFound('Cota não encontrada neste grupo.');
    const row = await runningAssembly(db, group.id, params.month);
    const placed = await callWorkflow(
      deps,
      () =>
        assemblyHandle(deps, tenantId, group.id, params.month).executeUpdate(placeBidUpdate, {
          args: [{ quotaId: quota.id, type: body.type, ...(body.percent !== undefined ? { percent: body.percent } : {}), ...(body.amountCents !== undefined ? { amountCents: body.amountCents } : {}), actor }],
          ...updateId('bid', idempotencyKey),
        }),
      { deadlineMs: 20_000, onNotFound: NOT_RUNNING },
    );
    await audit({ action: 'consortium_bid.placed', entityType: 'consortium_assembly', entityId: row.id, workflowId: row.workflowId, details: { bidId: placed.bidId, quota: placed.quota, type: placed.type, percent: placed.percent, replacedBidId: placed.replacedBidId } });
    return { status: 201, body: placed };
  },
});

export const withdrawBid = route({
  method: 'delete',
  path: '/consortium/groups/:groupId/assemblies/:month/bids/:quotaNumber',
  summary: 'Withdraws a quota’s live bid while bidding is open',
  tags: ['consortium'],
  access: bids,
  params: quotaNumberParams,
  responses: { 200: { description: 'Withdrawn', schema: z.object({ bidId: z.string() }) }, 404: { description: 'No such group, quota or assembly' }, 409: { description: 'Refused (bidding closed, no live bid)' } },
  async handler({ params, db, deps, tenantId, actor, audit }) {
    const group = await groupOf(db, params.groupId);
    const quota = await ConsortiumQuota.query(db).where({ groupId: group.id, number: params.quotaNumber }).first();
    if (!quota) throw notFound('Cota não encontrada neste grupo.');
    const row = await runningAssembly(db, group.id, params.month);
    const r = await callWorkflow(deps, () => assemblyHandle(deps, tenantId, group.id, params.month).executeUpdate(withdrawBidUpdate, { args: [{ quotaId: quota.id, actor }] }), {
      deadlineMs: 20_000,
      onNotFound: NOT_RUNNING,
    });
    await audit({ action: 'consortium_bid.withdrawn', entityType: 'consortium_assembly', entityId: row.id, workflowId: row.workflowId, details: { bidId: r.bidId, quota: quota.number } });
    return { body: r };
  },
});

export const enterLottery = route({
  method: 'put',
  path: '/consortium/groups/:groupId/assemblies/:month/lottery',
  summary: 'Enters (or, with a reason, corrects) the Loteria Federal result of the assembly’s extraction, until published',
  tags: ['consortium'],
  access: lottery,
  params: monthParams,
  body: lotteryBody,
  idempotencyKey: true,
  responses: { 200: { description: 'The assembly’s view', schema: assemblyLiveView }, 404: { description: 'No such group or assembly' }, 409: { description: 'Refused (wrong extraction, published already, not ready)' } },
  async handler({ params, body, db, deps, tenantId, actor, audit, idempotencyKey }) {
    const group = await groupOf(db, params.groupId);
    const row = await runningAssembly(db, group.id, params.month);
    // An automation reads Caixa's published result; staff type it in.
    const source = actor.type === 'api_key' ? ('automation' as const) : ('operator' as const);
    const view = await callWorkflow(
      deps,
      () =>
        assemblyHandle(deps, tenantId, group.id, params.month).executeUpdate(enterLotteryResultUpdate, {
          args: [{ contest: body.contest ?? null, drawDate: body.drawDate, prizes: body.prizes, source, actor, reason: body.reason ?? null, publish: body.publish ?? false }],
          ...updateId('lottery', idempotencyKey),
        }),
      { deadlineMs: 20_000, onNotFound: NOT_RUNNING },
    );
    await audit({
      action: body.reason ? 'consortium_lottery.corrected' : 'consortium_lottery.entered',
      entityType: 'consortium_assembly',
      entityId: row.id,
      workflowId: row.workflowId,
      details: { contest: body.contest ?? null, drawDate: body.drawDate, prizes: body.prizes, source, reason: body.reason ?? null, publish: body.publish ?? false },
    });
    return { body: view };
  },
});

export const publishAssemblyResult = route({
  method: 'post',
  path: '/consortium/groups/:groupId/assemblies/:month/publish',
  summary: 'Publishes the lottery result: the draw and contemplations follow, and the entry can no longer be corrected',
  tags: ['consortium'],
  access: write,
  params: monthParams,
  idempotencyKey: true,
  responses: { 200: { description: 'The assembly’s view', schema: assemblyLiveView }, 404: { description: 'No such group or assembly' }, 409: { description: 'Refused (no result entered, published already)' } },
  async handler({ params, db, deps, tenantId, actor, audit, idempotencyKey }) {
    const group = await groupOf(db, params.groupId);
    const row = await runningAssembly(db, group.id, params.month);
    const view = await callWorkflow(
      deps,
      () => assemblyHandle(deps, tenantId, group.id, params.month).executeUpdate(publishResultUpdate, { args: [{ actor }], ...updateId('publish', idempotencyKey) }),
      { deadlineMs: 30_000, onNotFound: NOT_RUNNING },
    );
    await audit({ action: 'consortium_assembly.published', entityType: 'consortium_assembly', entityId: row.id, workflowId: row.workflowId, details: { month: params.month } });
    return { body: view };
  },
});

export const confirmBidPayment = route({
  method: 'post',
  path: '/consortium/groups/:groupId/assemblies/:month/bids/:bidId/payment',
  summary: 'Confirms a winning bid’s payment before its deadline: its contemplation is confirmed',
  tags: ['consortium'],
  access: write,
  params: bidIdParams,
  idempotencyKey: true,
  responses: { 200: { description: 'The assembly’s view', schema: assemblyLiveView }, 404: { description: 'No such group, assembly or bid' }, 409: { description: 'Refused (not a winning bid awaiting payment)' } },
  async handler({ params, db, deps, tenantId, actor, audit, idempotencyKey }) {
    const group = await groupOf(db, params.groupId);
    const row = await runningAssembly(db, group.id, params.month);
    const bid = await ConsortiumBid.query(db).where({ id: params.bidId, assemblyId: row.id }).first();
    if (!bid) throw notFound('Lance não encontrado nesta assembleia.');
    const view = await callWorkflow(
      deps,
      () => assemblyHandle(deps, tenantId, group.id, params.month).executeUpdate(confirmBidPaymentUpdate, { args: [{ bidId: bid.id, actor }], ...updateId('bid-payment', idempotencyKey) }),
      { deadlineMs: 20_000, onNotFound: NOT_RUNNING },
    );
    await audit({ action: 'consortium_bid.payment_confirmed', entityType: 'consortium_assembly', entityId: row.id, workflowId: row.workflowId, details: { bidId: bid.id, quota: bid.quotaNumber, amountCents: bid.amountCents } });
    return { body: view };
  },
});

export const consortiumRoutes = [
  createGroup,
  listGroups,
  getGroup,
  publishGroupRules,
  listGroupRules,
  createQuota,
  listQuotas,
  groupCalendar,
  groupReport,
  startAssembly,
  listAssemblies,
  getAssembly,
  getAssemblyRecord,
  placeBid,
  withdrawBid,
  enterLottery,
  publishAssemblyResult,
  confirmBidPayment,
];

import { z } from 'zod';
import { Invoice, OwnerPayout } from '../../db/models';
import { PAYOUT_STATUSES } from '../../domain/billing-statuses';
import { formatBrl } from '../../domain/contract-template';
import { BILLING_ROLES } from '../../domain/roles';
import { formatTaxId, normalizeTaxId } from '../../domain/tax-id';
import { iso, month } from '../invoices/fields';
import { keysetPage, pageOf, pageQuery } from '../pagination';
import { conflict, notFound } from '../problem';
import { route } from '../route';
import { uuidParam } from '../schemas';

// Rent's owner payouts: the rows are written when a rent invoice is paid (db/payment-recording.ts,
// the gateway's part); here finance lists them, marks them paid, and prints the owner's monthly
// statement.

const read = { roles: BILLING_ROLES, scopes: ['invoices:read' as const] };
const write = { roles: BILLING_ROLES, scopes: ['payments:write' as const] };

const ownerDocument = z
  .string()
  .max(40)
  .refine((v) => normalizeTaxId(v) !== null, 'CPF ou CNPJ inválido')
  .transform((v) => (normalizeTaxId(v) as { digits: string }).digits);

export const payoutView = z.object({
  id: z.uuid(),
  invoiceId: z.uuid(),
  subscriptionId: z.uuid().nullable(),
  ownerName: z.string(),
  ownerDocument: z.string(),
  ownerPixKey: z.string().nullable(),
  referenceMonth: z.string(),
  grossCents: z.number().int(),
  feePercent: z.number(),
  feeCents: z.number().int(),
  netCents: z.number().int(),
  dueDate: z.string(),
  status: z.enum(PAYOUT_STATUSES),
  paidAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
});

const toPayoutView = (p: OwnerPayout): z.infer<typeof payoutView> => ({
  id: p.id,
  invoiceId: p.invoiceId,
  subscriptionId: p.subscriptionId,
  ownerName: p.ownerName,
  ownerDocument: p.ownerDocument,
  ownerPixKey: p.ownerPixKey,
  referenceMonth: p.referenceMonth,
  grossCents: p.grossCents,
  feePercent: p.feePercent,
  feeCents: p.feeCents,
  netCents: p.netCents,
  dueDate: p.dueDate,
  status: p.status,
  paidAt: iso(p.paidAt),
  createdAt: iso(p.createdAt) as string,
});

export const listPayouts = route({
  method: 'get',
  path: '/payouts',
  summary: 'Owner payouts, newest first (keyset pages), by status, owner, month and subscription',
  tags: ['billing'],
  access: read,
  query: pageQuery
    .extend({ status: z.enum(PAYOUT_STATUSES).optional(), ownerDocument: ownerDocument.optional(), month: month.optional(), subscriptionId: z.uuid().optional() })
    .strict(),
  responses: { 200: { description: 'A page of payouts', schema: pageOf(payoutView) } },
  async handler({ query, db }) {
    const qb = OwnerPayout.query(db);
    if (query.status) qb.where({ status: query.status });
    if (query.ownerDocument) qb.where({ ownerDocument: query.ownerDocument });
    if (query.month) qb.where({ referenceMonth: query.month });
    if (query.subscriptionId) qb.where({ subscriptionId: query.subscriptionId });
    const page = await keysetPage(qb, query);
    return { body: { items: page.rows.map(toPayoutView), nextCursor: page.nextCursor } };
  },
});

export const markPayoutPaid = route({
  method: 'post',
  path: '/payouts/:payoutId/paid',
  summary: 'Marks an owner payout as paid (the transfer was made)',
  tags: ['billing'],
  access: write,
  params: uuidParam('payoutId'),
  responses: { 200: { description: 'Paid', schema: payoutView }, 404: { description: 'No such payout' }, 409: { description: 'Cancelled' } },
  async handler({ params, db, actor, audit }) {
    const payout = await OwnerPayout.query(db).findById(params.payoutId).forUpdate();
    if (!payout) throw notFound('Repasse não encontrado.');
    if (payout.status === 'cancelled') throw conflict('Este repasse foi cancelado.');
    // Paid already: the same answer (a retried click pays nothing twice).
    if (payout.status === 'paid') return { body: toPayoutView(payout) };
    const at = new Date();
    const paid = await OwnerPayout.query(db).patchAndFetchById(payout.id, { status: 'paid', paidAt: at, paidBy: actor.type === 'user' ? actor.id : null, updatedAt: at });
    await audit({ action: 'payout.paid', entityType: 'owner_payout', entityId: payout.id, details: { netCents: payout.netCents } });
    return { body: toPayoutView(paid) };
  },
});

const statementQuery = z.object({ ownerDocument, month, format: z.enum(['json', 'html']).default('json') }).strict();

const statementLine = z.object({
  payoutId: z.uuid(),
  invoiceId: z.uuid(),
  invoiceNumber: z.number().int().nullable(),
  description: z.string(),
  grossCents: z.number().int(),
  feePercent: z.number(),
  feeCents: z.number().int(),
  netCents: z.number().int(),
  dueDate: z.string(),
  status: z.enum(PAYOUT_STATUSES),
  paidAt: z.iso.datetime().nullable(),
});

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
const brDate = (d: string) => d.split('-').reverse().join('/');

export const ownerStatement = route({
  method: 'get',
  path: '/owner-statements',
  summary: 'An owner’s statement for a month: each rent received with its gross, the agency’s fee and the net payout (JSON, or ?format=html)',
  tags: ['billing'],
  access: read,
  query: statementQuery,
  responses: {
    200: {
      description: 'The statement (cancelled payouts are listed but not totalled)',
      schema: z.object({
        owner: z.object({ name: z.string().nullable(), document: z.string() }),
        month: z.string(),
        lines: z.array(statementLine),
        totals: z.object({ grossCents: z.number().int(), feeCents: z.number().int(), netCents: z.number().int(), paidNetCents: z.number().int(), dueNetCents: z.number().int() }),
      }),
    },
  },
  async handler({ query, db }) {
    const payouts = await OwnerPayout.query(db).where({ ownerDocument: query.ownerDocument, referenceMonth: query.month }).orderBy([{ column: 'dueDate' }, { column: 'createdAt' }, { column: 'id' }]);
    const invoices = payouts.length ? await Invoice.query(db).whereIn('id', payouts.map((p) => p.invoiceId)) : [];
    const lines = payouts.map((p) => {
      const inv = invoices.find((i) => i.id === p.invoiceId);
      return {
        payoutId: p.id,
        invoiceId: p.invoiceId,
        invoiceNumber: inv?.number ?? null,
        description: inv?.description ?? 'Aluguel',
        grossCents: p.grossCents,
        feePercent: p.feePercent,
        feeCents: p.feeCents,
        netCents: p.netCents,
        dueDate: p.dueDate,
        status: p.status,
        paidAt: iso(p.paidAt),
      };
    });
    const counted = lines.filter((l) => l.status !== 'cancelled');
    const sum = (ls: typeof lines, k: 'grossCents' | 'feeCents' | 'netCents') => ls.reduce((s, l) => s + l[k], 0);
    const statement = {
      owner: { name: payouts[0]?.ownerName ?? null, document: query.ownerDocument },
      month: query.month,
      lines,
      totals: {
        grossCents: sum(counted, 'grossCents'),
        feeCents: sum(counted, 'feeCents'),
        netCents: sum(counted, 'netCents'),
        paidNetCents: sum(counted.filter((l) => l.status === 'paid'), 'netCents'),
        dueNetCents: sum(counted.filter((l) => l.status === 'due'), 'netCents'),
      },
    };
    if (query.format === 'json') return { body: statement };
    const status = { due: 'a repassar', paid: 'repassado', cancelled: 'cancelado' } as const;
    const [y, m] = query.month.split('-');
    const html = `<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8"><title>Extrato do proprietário ${escape(m as string)}/${escape(y as string)}</title>
<style>body{font-family:sans-serif;max-width:860px;margin:2em auto}td,th{padding:.2em .6em;text-align:right}td:first-child,th:first-child{text-align:left}</style></head>
<body>
<h1>Extrato de repasses — ${escape(m as string)}/${escape(y as string)}</h1>
<p>Proprietário: ${escape(statement.owner.name ?? '—')} — CPF/CNPJ ${escape(formatTaxId(query.ownerDocument))}</p>
<table>
<tr><th>Imóvel / descrição</th><th>Aluguel recebido</th><th>Taxa de administração</th><th>Valor da taxa</th><th>Repasse</th><th>Data do repasse</th><th>Situação</th></tr>
${lines.map((l) => `<tr><td>${escape(l.description)}</td><td>${escape(formatBrl(l.grossCents))}</td><td>${escape(String(l.feePercent).replace('.', ','))}%</td><td>${escape(formatBrl(l.feeCents))}</td><td>${escape(formatBrl(l.netCents))}</td><td>${escape(brDate(l.dueDate))}</td><td>${status[l.status]}</td></tr>`).join('\n')}
<tr><th>Total</th><th>${escape(formatBrl(statement.totals.grossCents))}</th><th></th><th>${escape(formatBrl(statement.totals.feeCents))}</th><th>${escape(formatBrl(statement.totals.netCents))}</th><th></th><th></th></tr>
</table>
<p>Já repassado: ${escape(formatBrl(statement.totals.paidNetCents))}. A repassar: ${escape(formatBrl(statement.totals.dueNetCents))}.</p>
</body></html>`;
    return { body: html, headers: { 'content-type': 'text/html; charset=utf-8' } };
  },
});

export const payoutRoutes = [listPayouts, markPayoutPaid, ownerStatement];

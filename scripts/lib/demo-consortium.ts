import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { addMonths, assemblyDates } from '../../domain/assembly-calendar';
import { localParts } from '../../domain/calendar';
import { DEFAULT_GROUP_RULES } from '../../domain/consortium-rules';
import { DEFAULT_TENANT_SETTINGS } from '../../domain/tenant-settings';
import { issueInstallment } from '../../db/consortium';
import { recordPayment } from '../../db/payment-recording';
import { ConsortiumGroup, ConsortiumQuota } from '../../db/models';
import { withTenant } from '../../db/tenant-scope';
import { assemblyStart } from '../../workflows/assembly';
import { dunningStart, dunningWorkflowId } from '../../workflows/dunning';
import { startOptions } from '../../workflows/workflow-start';
import { request as apiRequest } from './demo-sales';
import type { DemoSettings } from './demo-tenant';

// A consortium group on the demo tenant: ABAC's example plan (R$ 30.000 in 50 months, 15% fee, 2%
// reserve: R$ 702,00 a month), 20 members entered through the API as staff would, four months of
// installments behind it (imported as history: paid, except quota 7's last one, late, and quota
// 20's last three, which the assembly's freeze excludes), and this month's assembly open for bids
// for a few minutes with two bids placed. Only into a tenant without groups, so what a newcomer
// changed survives.

const GROUP = {
  code: 'AUTO-30',
  name: 'Grupo Auto R$ 30 mil',
  creditCents: 3_000_000,
  termMonths: 50,
  adminFeePercent: 15,
  reserveFundPercent: 2,
  quotaCount: 20,
  // Late in the month: this month's extraction is still ahead on most days of the month.
  assemblyDay: 28,
  installmentDueDay: 10,
};
const MEMBERS = 20;
const LATE_QUOTA = 7;
const EXCLUDED_QUOTA = 20;
const HISTORY_MONTHS = 4;
const BIDDING_MINUTES = 5;
const BID_PAYMENT_MINUTES = 10;
const FIRST_NAMES = ['Ana', 'Bruno', 'Carla', 'Diego', 'Elisa', 'Fábio', 'Gabriela', 'Heitor', 'Isabela', 'João', 'Karina', 'Lucas', 'Marina', 'Nicolas', 'Olívia', 'Paulo', 'Quitéria', 'Rafael', 'Sofia', 'Tiago'];
const SURNAMES = ['Silva', 'Santos', 'Oliveira', 'Souza', 'Lima', 'Pereira', 'Ferreira', 'Costa', 'Rodrigues', 'Almeida', 'Nascimento'];

interface Reply {
  status: number;
  body: Record<string, unknown> & { items?: Record<string, unknown>[] };
}

// A CPF with its check digits (Receita's mod-11 rule), from nine base digits.
export function demoCpf(seed: number): string {
  const base = String(100_000_000 + seed * 7_919).slice(-9).split('').map(Number);
  const digit = (ds: number[]) => {
    const sum = ds.reduce((s, d, i) => s + d * (ds.length + 1 - i), 0);
    const r = (sum * 10) % 11;
    return r === 10 ? 0 : r;
  };
  const d1 = digit(base);
  const d2 = digit([...base, d1]);
  return [...base, d1, d2].join('');
}

// The month whose assembly the demo opens: this one, unless its extraction has passed.
function demoMonth(today: string): string {
  const month = today.slice(0, 7);
  const dates = assemblyDates(month, { ...GROUP, timeZone: DEFAULT_TENANT_SETTINGS.timeZone }, DEFAULT_GROUP_RULES);
  return dates.extractionDate > today ? month : addMonths(month, 1);
}

export async function seedDemoConsortium(apiUrl: string, demo: DemoSettings, knex: Knex, temporal: Client, taskQueue: string, say: (m: string) => void): Promise<string[]> {
  const request = (method: string, path: string, token: string | undefined, body?: unknown) => apiRequest(apiUrl, method, path, token, body) as unknown as Promise<Reply>;
  const login = await request('POST', '/api/auth/login', undefined, { email: demo.tenant.adminEmail, password: demo.tenant.adminPassword });
  if (login.status !== 200) return [];
  const token = String(login.body.accessToken);
  const call = (method: string, path: string, body?: unknown) => request(method, path, token, body);
  const must = async (what: string, res: Promise<Reply>) => {
    const r = await res;
    if (r.status >= 300) throw new Error(`demo consortium: ${what} failed (HTTP ${r.status}): ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const tenantId = String((login.body.user as { tenantId?: string } | undefined)?.tenantId ?? '');

  try {
    const existing = await must('groups', call('GET', '/api/consortium/groups?limit=1'));
    const found = existing.items?.[0];
    if (found) return hints(String(found.id), String(found.code), null);

    const timeZone = DEFAULT_TENANT_SETTINGS.timeZone;
    const today = localParts(Date.now(), timeZone).date;
    const month = demoMonth(today);
    const firstMonth = addMonths(month, -HISTORY_MONTHS);
    const group = await must('group', call('POST', '/api/consortium/groups', { ...GROUP, firstAssemblyMonth: firstMonth, rules: DEFAULT_GROUP_RULES }));
    const groupId = String(group.id);
    for (let n = 1; n <= MEMBERS; n++) {
      await must(`member ${n}`, call('POST', `/api/consortium/groups/${groupId}/quotas`, {
        number: n,
        name: `${FIRST_NAMES[n - 1]} ${SURNAMES[n % SURNAMES.length]}`,
        phone: `+55119777700${String(n).padStart(2, '0')}`,
        taxId: demoCpf(n),
        joinedOn: `${firstMonth}-01`,
      }));
    }

    // The group's past, as an administradora migrating its books would import it: four months of
    // installments, paid on their due dates except the late and the excluded quotas' ones. Those
    // unpaid get their dunning runs, as every invoice does.
    const unpaid = await withTenant(knex, tenantId, async (trx) => {
      const g = await ConsortiumGroup.query(trx).findById(groupId).throwIfNotFound();
      const quotas = await ConsortiumQuota.query(trx).where({ groupId }).orderBy('number');
      const open: string[] = [];
      for (let k = 0; k < HISTORY_MONTHS; k++) {
        const m = addMonths(firstMonth, k);
        const dueDate = `${m}-${String(GROUP.installmentDueDay).padStart(2, '0')}`;
        for (const q of quotas) {
          const invoice = await issueInstallment(trx, g, q, { month: m, dueDate, finePercent: 2, monthlyInterestPercent: 1 }, dunningWorkflowId);
          if (!invoice) continue;
          const missed = (q.number === LATE_QUOTA && k === HISTORY_MONTHS - 1) || (q.number === EXCLUDED_QUOTA && k >= 1);
          if (missed) {
            open.push(invoice.id);
            continue;
          }
          await recordPayment(trx, { tenantId, invoiceId: invoice.id, amountCents: invoice.amountCents, paidOn: dueDate, method: 'pix', source: 'manual', note: 'Histórico importado (demonstração).', today });
          // Paid on its due date, as the history says (the standing reads the day it was paid).
          await trx('invoices').where({ id: invoice.id }).update({ paid_at: new Date(`${dueDate}T15:00:00Z`) });
        }
      }
      return open;
    });
    for (const invoiceId of unpaid) {
      const run = dunningStart({ tenantId, invoiceId });
      await temporal.workflow.start(run.workflowType, startOptions(run, { main: taskQueue }));
    }

    // This month's assembly, with a bidding window of minutes instead of days so a newcomer sees
    // it close, enters the lottery numbers and publishes the result in one sitting.
    const start = assemblyStart({ tenantId, groupId, month, options: { biddingWindowMs: BIDDING_MINUTES * 60_000, bidPaymentWindowMs: BID_PAYMENT_MINUTES * 60_000 } });
    await temporal.workflow.start(start.workflowType, startOptions(start, { main: taskQueue }));
    const path = `/api/consortium/groups/${groupId}/assemblies/${month}`;
    let placed = false;
    for (let i = 0; i < 40 && !placed; i++) {
      const r = await call('POST', `${path}/bids`, { quotaNumber: 3, type: 'fixo', percent: 50 });
      placed = r.status === 201 || r.status === 200;
      if (!placed) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await must('bid of quota 12', call('POST', `${path}/bids`, { quotaNumber: 12, type: 'livre', percent: 40 }));
    const dates = assemblyDates(month, { ...GROUP, timeZone }, DEFAULT_GROUP_RULES);
    say(`Seeded the consortium demo: group ${GROUP.code} (${MEMBERS} members, R$ 702,00 a month), ${month}'s assembly taking bids for ${BIDDING_MINUTES} minutes.`);
    return hints(groupId, GROUP.code, { month, extractionDate: dates.extractionDate });
  } catch (err) {
    say(`${(err as Error).message}; the rest of the consortium demo was skipped.`);
    return [];
  }
}

function hints(groupId: string, code: string, open: { month: string; extractionDate: string } | null): string[] {
  const base = `/api/consortium/groups/${groupId}`;
  const lines = [
    `Consortium    group ${code} ${groupId}: GET ${base}/report (fund, contemplated, delinquent, excluded), ${base}/calendar, ${base}/quotas`,
  ];
  if (!open) return [...lines, `                its assemblies: GET ${base}/assemblies; a closed one's record: …/assemblies/<month>/record → npm run verify:assembly -- record.json`];
  const a = `${base}/assemblies/${open.month}`;
  return [
    ...lines,
    `                ${open.month}'s assembly takes bids for ${BIDDING_MINUTES} minutes (quota 3 fixo 50%, quota 12 livre 40% placed; quota ${LATE_QUOTA} is late and is refused): POST ${a}/bids {"quotaNumber": 5, "type": "livre", "percent": 30}`,
    `                then: PUT ${a}/lottery {"drawDate": "${open.extractionDate}", "contest": "06000", "prizes": ["12007","34012","56003","78015","90018"]}, POST ${a}/publish, GET ${a} (the derivation)`,
    `                quota ${EXCLUDED_QUOTA} (three installments unpaid) is excluded at the close; a winning fixo bid waits ${BID_PAYMENT_MINUTES} minutes for POST ${a}/bids/<bidId>/payment; then GET ${a}/record > record.json && npm run verify:assembly -- record.json`,
  ];
}

import { formatBrl } from './contract-template';
import type { OutboundContent } from './outbound-content';
import { formatTaxId } from './tax-id';
import type { TenantSettings } from './tenant-settings';

// What a collection message says, as the parameters of the tenant's own utility template.
// CDC art. 42-A: every collection message names the creditor with its CPF/CNPJ and address; a
// tenant that has not set them sends none. CDC art. 42 (and art. 71): no threat, ridicule or
// exposure — every text we put in a message is checked against a short list of what that looks
// like in Portuguese.

export type NoticeKind = 'reminder' | 'due' | 'notice' | 'final_notice' | 'payment_confirmed';

type Creditor = TenantSettings['billing']['creditor'];
type Templates = TenantSettings['billing']['templates'];

export interface NoticeFacts {
  customerName: string | null;
  invoiceNumber: number;
  amountDueCents: number;
  dueDate: string; // YYYY-MM-DD
  paymentLink: string | null;
}

// "Credor: <razão social>, CPF/CNPJ <formatado>, <endereço>", or null when any part is missing.
export function creditorLine(c: Creditor): string | null {
  if (!c.legalName?.trim() || !c.taxId || !c.address?.trim()) return null;
  return `Credor: ${c.legalName.trim()}, CPF/CNPJ ${formatTaxId(c.taxId)}, ${c.address.trim()}`;
}

export const ddmmyyyy = (date: string) => date.split('-').reverse().join('/');

// The body parameters, in the order every collection template declares them:
// {{1}} name, {{2}} invoice number, {{3}} amount due today, {{4}} due date, {{5}} payment link, {{6}} creditor.
// The payment confirmation fills {{3}} with the amount paid and {{5}} with a line saying nothing is due.
export function noticeParameters(f: NoticeFacts, creditor: string): string[] {
  return [
    f.customerName?.trim() || 'cliente',
    String(f.invoiceNumber),
    formatBrl(f.amountDueCents),
    ddmmyyyy(f.dueDate),
    f.paymentLink ?? 'Fale conosco para receber o link de pagamento.',
    creditor,
  ];
}

export function templateNameFor(kind: NoticeKind, t: Templates): string {
  switch (kind) {
    case 'reminder':
      return t.reminder;
    case 'due':
      return t.dueToday;
    case 'notice':
      return t.notice;
    case 'final_notice':
      return t.finalNotice;
    case 'payment_confirmed':
      return t.paymentConfirmed;
  }
}

export type NoticeResult = { content: OutboundContent; parameters: string[] } | { skipped: 'creditor_missing' | 'conduct'; problems?: string[] };

export function collectionNotice(kind: NoticeKind, f: NoticeFacts, billing: Pick<TenantSettings['billing'], 'creditor' | 'templates'>): NoticeResult {
  const creditor = creditorLine(billing.creditor);
  if (!creditor) return { skipped: 'creditor_missing' };
  const parameters = noticeParameters(f, creditor);
  const problems = parameters.flatMap(conductProblems);
  if (problems.length > 0) return { skipped: 'conduct', problems };
  return {
    parameters,
    content: {
      type: 'template',
      name: templateNameFor(kind, billing.templates),
      language: billing.templates.language,
      components: [{ type: 'body', parameters: parameters.map((text) => ({ type: 'text', text })) }],
    },
  };
}

// Threats, ridicule, exposure to third parties (CDC art. 42 and 71). Matched on words without
// accents, case-insensitive. Short on purpose: it guards the texts we build, not free speech.
const CONDUCT_PATTERNS: [RegExp, string][] = [
  [/\bpolicia\b/, 'ameaça policial'],
  [/\bprisao\b|\bpreso\b|\bcadeia\b/, 'ameaça de prisão'],
  [/processo criminal|\bcrime\b|\bdelegacia\b/, 'ameaça criminal'],
  [/\bexpor\b|\bexposto\b|\bexposicao\b|\bvergonha\b|\bhumilha/, 'exposição ou ridículo'],
  [/\bvizinh/, 'terceiros (vizinhos)'],
  [/\bempregador\b|\bchefe\b|\bpatrao\b|\bseu trabalho\b/, 'terceiros (trabalho)'],
  [/\bfamilia\b|\bparentes\b/, 'terceiros (família)'],
  [/\bcaloteir|\bvagabund|\bmau pagador\b/, 'ofensa'],
  [/\bvamos te achar\b|\bvai se arrepender\b|\bultima chance antes\b/, 'ameaça'],
];

const fold = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

export function conductProblems(text: string): string[] {
  const t = fold(text);
  return CONDUCT_PATTERNS.filter(([re]) => re.test(t)).map(([, what]) => what);
}

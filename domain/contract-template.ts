// A contract template's {{placeholders}}: the names a tenant may use, the values a contract fills
// them with, and the check that refuses a template naming anything else when it is saved.

export const CONTRACT_PLACEHOLDERS = [
  'contact.name',
  'contact.document',
  'contract.number',
  'contract.title',
  'contract.total',
  'proposal.number',
  'proposal.total',
  'proposal.items',
  'proposal.validUntil',
  'tenant.name',
  'date',
] as const;
export type ContractPlaceholder = (typeof CONTRACT_PLACEHOLDERS)[number];
export type PlaceholderValues = Record<ContractPlaceholder, string>;

const PATTERN = /\{\{\s*([a-zA-Z0-9_.]+)\s*\}\}/g;

export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(PATTERN)].map((m) => m[1] as string))];
}

// The placeholders a template uses that no contract can fill.
export function unknownPlaceholders(text: string): string[] {
  return placeholdersIn(text).filter((p) => !(CONTRACT_PLACEHOLDERS as readonly string[]).includes(p));
}

export function fillTemplate(text: string, values: PlaceholderValues): string {
  return text.replace(PATTERN, (whole, name: string) => (name in values ? values[name as ContractPlaceholder] : whole));
}

// R$ 1.234,56 from centavos, without Intl's non-breaking space (PDF fonts and tests read it alike).
export function formatBrl(cents: number): string {
  const negative = cents < 0;
  const abs = Math.abs(Math.trunc(cents));
  const reais = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  const centavos = String(abs % 100).padStart(2, '0');
  return `${negative ? '-' : ''}R$ ${reais},${centavos}`;
}

export interface ItemLine {
  description: string;
  quantity: number;
  unitPriceCents: number;
  discountCents: number;
  totalCents: number;
}

// The items as text lines (the PDF has no table layout): one line per item.
export function itemsTable(items: readonly ItemLine[]): string {
  if (items.length === 0) return '(sem itens)';
  return items
    .map((i, n) => `${n + 1}. ${i.description} — ${i.quantity} x ${formatBrl(i.unitPriceCents)}${i.discountCents ? ` − desconto ${formatBrl(i.discountCents)}` : ''} = ${formatBrl(i.totalCents)}`)
    .join('\n');
}

// dd/mm/aaaa in the tenant's time zone.
export function localDate(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('day')}/${get('month')}/${get('year')}`;
}

// Used when a tenant has no default template of its own.
export const DEFAULT_CONTRACT_TEMPLATE = {
  name: 'Contrato padrão',
  title: 'Contrato {{contract.number}} — {{tenant.name}}',
  body: [
    'Pelo presente instrumento, {{tenant.name}} e {{contact.name}} (documento {{contact.document}}) firmam este contrato.',
    'Objeto e valores:\n{{proposal.items}}',
    'Valor total: {{contract.total}}.',
    'As partes declaram ter lido e concordado com os termos acima, assinando eletronicamente nos termos da Lei 14.063/2020 e da MP 2.200-2/2001, art. 10, § 2º.',
    'Data: {{date}}.',
  ].join('\n\n'),
};

// node-postgres reads a `date` as local midnight: its local parts are the stored date.
export const dateOnly = (v: unknown): string =>
  v instanceof Date
    ? `${v.getFullYear()}-${String(v.getMonth() + 1).padStart(2, '0')}-${String(v.getDate()).padStart(2, '0')}`
    : String(v).slice(0, 10);

// Today's date (yyyy-mm-dd) in the tenant's time zone.
export function todayIn(timeZone: string, now: Date): string {
  return localDate(now, timeZone).split('/').reverse().join('-');
}

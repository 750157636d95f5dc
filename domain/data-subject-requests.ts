import { localParts, zonedTimeToUtc } from './calendar';
import { addCalendarDays } from './late-charges';

// LGPD data-subject requests (Lei 13.709/2018 art. 18): what a contact may ask of the tenant, the
// 15-day deadline for the full answer (art. 19 II), and what an erased contact becomes. Pure code:
// the request's workflow, its activities and the routes all read these.

export const DATA_SUBJECT_REQUEST_KINDS = ['access', 'portability', 'correction', 'erasure'] as const;
export type DataSubjectRequestKind = (typeof DATA_SUBJECT_REQUEST_KINDS)[number];

export const DATA_SUBJECT_REQUEST_STATUSES = ['awaiting_identity', 'in_progress', 'completed', 'refused'] as const;
export type DataSubjectRequestStatus = (typeof DATA_SUBJECT_REQUEST_STATUSES)[number];
export const OPEN_DATA_SUBJECT_REQUEST_STATUSES = ['awaiting_identity', 'in_progress'] as const satisfies readonly DataSubjectRequestStatus[];

export const DATA_SUBJECT_REQUEST_CHANNELS = ['staff', 'whatsapp'] as const;
export type DataSubjectRequestChannel = (typeof DATA_SUBJECT_REQUEST_CHANNELS)[number];

// What a correction may change on the contact (art. 18 III): what staff or a form knows of them.
export const CORRECTABLE_CONTACT_FIELDS = ['name', 'email', 'document'] as const;
export type CorrectableContactField = (typeof CORRECTABLE_CONTACT_FIELDS)[number];
export type ContactCorrection = Partial<Record<CorrectableContactField, string | null>>;

// Every step the request goes through; each is an audit action, an automation event and a live event.
export const DATA_SUBJECT_REQUEST_STEPS = ['registered', 'identity_confirmed', 'refused', 'exported', 'corrected', 'erased', 'completed', 'reminder', 'overdue'] as const;
export type DataSubjectRequestStep = (typeof DATA_SUBJECT_REQUEST_STEPS)[number];

export const DEADLINE_DAYS = 15;
// Staff are reminded on these days after the request (counted as the deadline is).
export const REMINDER_DAYS = [10, 14] as const;
const REMINDER_MINUTES = 9 * 60;
const END_OF_DAY_MINUTES = 23 * 60 + 59;

export interface DeadlinePlan {
  dueAt: Date;
  reminders: { key: string; at: Date }[];
}

// Calendar days, not business days (art. 19 II says "prazo de até 15 (quinze) dias"): the answer is
// due by the end of the 15th day after the day of the request, in the tenant's time zone;
// reminders at 09:00 local on days 10 and 14.
export function dataSubjectDeadline(requestedAt: Date | number, timeZone: string): DeadlinePlan {
  const day = localParts(requestedAt, timeZone).date;
  const endOfDay = zonedTimeToUtc(addCalendarDays(day, DEADLINE_DAYS), END_OF_DAY_MINUTES, timeZone);
  return {
    dueAt: new Date(endOfDay.getTime() + 59_999),
    reminders: REMINDER_DAYS.map((d) => ({ key: `day${d}`, at: zonedTimeToUtc(addCalendarDays(day, d), REMINDER_MINUTES, timeZone) })),
  };
}

// A deadline compressed for tests and demos: a "day" lasts dayMs after the workflow started.
export function compressedDeadline(startMs: number, dayMs: number): { dueAtMs: number; reminders: { key: string; atMs: number }[] } {
  return {
    dueAtMs: startMs + DEADLINE_DAYS * dayMs,
    reminders: REMINDER_DAYS.map((d) => ({ key: `day${d}`, atMs: startMs + d * dayMs })),
  };
}

// "LGPD-000042": the number a contact quotes.
export function protocolOf(number: number): string {
  return `LGPD-${String(number).padStart(6, '0')}`;
}

// --- WhatsApp: a contact's own words ------------------------------------------------------------
// A deterministic reading of a message as a request: the phrase must be the message's point, so
// "apagar meus dados" registers an erasure and a long message that mentions data does not.

const ERASURE = [/\b(apagar|apague|excluir|exclua|deletar|delete|remover|remova|eliminar|elimine)\b.{0,20}\b(meus|minhas)\b.{0,10}\b(dados|informacoes)\b/, /\besquecer? (de )?mim\b/, /\bdireito ao esquecimento\b/];
const ACCESS = [/\b(quero|gostaria de|solicito|pedir|peco)\b.{0,20}\b(meus|minhas)\b.{0,10}\b(dados|informacoes)\b/, /\bacesso (aos?|as) (meus|minhas) (dados|informacoes)\b/, /\b(copia|relatorio) dos? (meus|minhas) (dados|informacoes)\b/];
const PORTABILITY = [/\bportabilidade\b.{0,20}\bdados\b/];
const CORRECTION = [/\b(corrigir|corrija|atualizar|atualize|retificar)\b.{0,20}\b(meus|minhas)\b.{0,10}\b(dados|informacoes)\b/];
const MAX_REQUEST_TEXT = 120;

function plain(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

export function dataSubjectRequestKindOf(text: string | null | undefined): DataSubjectRequestKind | null {
  if (!text) return null;
  const t = plain(text);
  if (t.length > MAX_REQUEST_TEXT) return null;
  if (ERASURE.some((r) => r.test(t))) return 'erasure';
  if (PORTABILITY.some((r) => r.test(t))) return 'portability';
  if (CORRECTION.some((r) => r.test(t))) return 'correction';
  if (ACCESS.some((r) => r.test(t))) return 'access';
  return null;
}

const KIND_LABELS: Record<DataSubjectRequestKind, string> = {
  access: 'acesso aos seus dados',
  portability: 'portabilidade dos seus dados',
  correction: 'correção dos seus dados',
  erasure: 'exclusão (anonimização) dos seus dados',
};

// What the contact reads on WhatsApp once the request is registered.
export function registeredReply(o: { kind: DataSubjectRequestKind; protocol: string; dueAt: Date; timeZone: string }): string {
  const [y, m, d] = localParts(o.dueAt, o.timeZone).date.split('-');
  return (
    `Recebemos sua solicitação de ${KIND_LABELS[o.kind]} (LGPD, art. 18). Protocolo: ${o.protocol}. ` +
    `Nossa equipe vai confirmar sua identidade e responder em até ${DEADLINE_DAYS} dias, até ${d}/${m}/${y}.`
  );
}

// --- Erasure: what an anonymized contact becomes ----------------------------------------------

export const ERASED_MESSAGE_BODY = '[conteúdo removido a pedido do titular]';

export function pseudonymOf(contactId: string): string {
  return `titular-anonimizado-${contactId.replace(/-/g, '').slice(0, 8)}`;
}

export interface ContactIdentity {
  waId: string | null;
  userId: string | null;
  profileName: string | null;
  name: string | null;
  email: string | null;
  document: string | null;
}

// The contact row after erasure. The pseudonym takes the place of the business-scoped user id
// (the row must keep one identifier, and a new message from the same number then opens a new,
// unrelated contact). The CPF/CNPJ stays only when invoices need it: fiscal records are kept for
// five years (CTN art. 173 and 195) and LGPD art. 16 I allows keeping data for a legal obligation.
export function anonymizedContact(contactId: string, o: { keepDocument: boolean; document: string | null }): ContactIdentity & { doNotContact: boolean } {
  const pseudonym = pseudonymOf(contactId);
  return { waId: null, userId: pseudonym, profileName: pseudonym, name: pseudonym, email: null, document: o.keepDocument ? o.document : null, doNotContact: true };
}

// The strings that identify the person and are searched for (and replaced) wherever free text may
// have copied them: names of at least 4 characters, phone, ids, e-mail. Short strings would hit
// unrelated text.
export function identifyingStrings(c: ContactIdentity): string[] {
  const out = new Set<string>();
  for (const v of [c.waId, c.userId, c.email, c.document]) if (v && v.length >= 4) out.add(v);
  for (const v of [c.name, c.profileName]) if (v && v.trim().length >= 4) out.add(v.trim());
  return [...out].sort((a, b) => b.length - a.length);
}

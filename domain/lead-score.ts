import type { LeadSource, LeadTemperature } from './sales-statuses';

// A lead's score, 0–100, with the reasons shown to its owner. The AI scores when the tenant has a
// key; without one (or when it fails) this heuristic does, and every point it gives is a reason
// on the card, so nobody has to trust a number they cannot read.

export interface LeadScoreInput {
  source: LeadSource;
  hasOffering: boolean;
  interest: string;
  hasEmail: boolean;
  marketingConsent: boolean;
  arrivedInBusinessHours: boolean;
}

export interface LeadScore {
  score: number;
  reasons: string[];
}

// Someone who walks in or writes first is further along than one a portal forwarded.
export const SOURCE_POINTS: Record<LeadSource, { points: number; label: string }> = {
  walk_in: { points: 25, label: 'visita à loja' },
  whatsapp: { points: 20, label: 'WhatsApp' },
  website_form: { points: 15, label: 'formulário do site' },
  portal: { points: 10, label: 'portal' },
  staff: { points: 10, label: 'cadastro pela equipe' },
  automation: { points: 5, label: 'automação' },
};

// Words that say the person means to buy soon, matched without accents or case. Each distinct
// one counts once, up to INTENT_CAP.
export const INTENT_WORDS: { word: string; label: string }[] = [
  { word: 'comprar', label: '"comprar"' },
  { word: 'a vista', label: '"à vista"' },
  { word: 'financiamento', label: '"financiamento"' },
  { word: 'financiar', label: '"financiar"' },
  { word: 'urgente', label: '"urgente"' },
  { word: 'hoje', label: '"hoje"' },
  { word: 'proposta', label: '"proposta"' },
  { word: 'visita', label: '"visita"' },
  { word: 'test drive', label: '"test drive"' },
  { word: 'entrada', label: '"entrada"' },
];
export const INTENT_POINTS = 10;
export const INTENT_CAP = 30;
const OFFERING_POINTS = 15;
const DESCRIBED_POINTS = 5;
const EMAIL_POINTS = 10;
const CONSENT_POINTS = 10;
const BUSINESS_HOURS_POINTS = 5;
const DESCRIBED_MIN_CHARS = 15;

export const WARM_LEAD_SCORE = 40;

const fold = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ');

export function heuristicLeadScore(input: LeadScoreInput): LeadScore {
  const reasons: string[] = [];
  let score = 0;
  const add = (points: number, reason: string) => {
    score += points;
    reasons.push(`${reason} (+${points})`);
  };
  const source = SOURCE_POINTS[input.source];
  add(source.points, `Origem: ${source.label}`);
  if (input.hasOffering) add(OFFERING_POINTS, 'Interesse em um item específico do catálogo');
  const text = fold(input.interest);
  if (text.trim().length >= DESCRIBED_MIN_CHARS) add(DESCRIBED_POINTS, 'Descreveu o que procura');
  const matched = INTENT_WORDS.filter((w) => new RegExp(`(^|[^a-z])${w.word}([^a-z]|$)`).test(text));
  if (matched.length > 0) {
    add(Math.min(INTENT_CAP, matched.length * INTENT_POINTS), `Intenção de compra: ${matched.map((w) => w.label).join(', ')}`);
  }
  if (input.hasEmail) add(EMAIL_POINTS, 'Informou e-mail');
  if (input.marketingConsent) add(CONSENT_POINTS, 'Aceitou receber ofertas');
  if (input.arrivedInBusinessHours) add(BUSINESS_HOURS_POINTS, 'Chegou em horário comercial');
  return { score: Math.max(0, Math.min(100, score)), reasons };
}

export function leadTemperature(score: number, hotLeadScore: number): LeadTemperature {
  if (score >= hotLeadScore) return 'hot';
  if (score >= WARM_LEAD_SCORE) return 'warm';
  return 'cold';
}

// The AI's structured answer (OpenAI's JSON-schema response format).
export const LEAD_SCORE_JSON_SCHEMA = {
  name: 'lead_score',
  strict: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['score', 'reasons'],
    properties: {
      score: { type: 'integer', minimum: 0, maximum: 100 },
      reasons: { type: 'array', items: { type: 'string' }, maxItems: 6 },
    },
  },
} as const;

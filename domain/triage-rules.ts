import { z } from 'zod';

// The bot's decision on one guest message, shared by the rule-based fallback, the OpenAI
// activity and the conversation workflow. Pure code: it also runs inside workflow code, so no
// I/O, no clock, no randomness — the same text always yields the same decision.

export interface FaqEntry {
  question: string;
  answer: string;
  keywords?: string[];
}

export interface AiDecision {
  action: 'reply' | 'escalate';
  // Present only when action is 'reply': the workflow owns the hand-off message, because it
  // depends on business hours and on whether an attendant is online.
  reply?: string;
  intent: string;
  confidence: number; // 0..1
  reason?: string;
}

// Meta only allows automated replies with a clear path to a human, and `wantsHuman` must
// recognise the word this hint tells the guest to send.
export const HUMAN_HANDOFF_HINT = 'Se preferir falar com uma pessoa da nossa equipe, é só escrever *atendente*.';

// ---------------------------------------------------------------------------------------------
// Text normalisation

export function normalizeText(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

// Words only: "check-in" and "wi-fi" become one word so FAQ keywords written either way match.
function words(s: string): string[] {
  return normalizeText(s)
    .replace(/([a-z0-9])-(?=[a-z0-9])/g, '$1')
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

// ---------------------------------------------------------------------------------------------
// Requests for a person

// Staff a guest may ask for, across hotels, real estate and dealerships.
const PERSON_NOUNS = [
  'atendente', 'atendentes', 'humano', 'humana', 'pessoa', 'alguem', 'gerente', 'gerencia',
  'recepcao', 'recepcionista', 'operador', 'operadora', 'funcionario', 'funcionaria',
  'responsavel', 'dono', 'dona', 'proprietario', 'proprietaria', 'corretor', 'corretora',
  'vendedor', 'vendedora', 'consultor', 'consultora', 'suporte', 'equipe',
];
const ASK_VERBS = [
  'falar', 'fala', 'falo', 'fale', 'conversar', 'converso', 'chamar', 'chama', 'chame',
  'passar', 'passa', 'passe', 'transferir', 'transfere', 'transfira', 'encaminhar', 'encaminha',
  'encaminhe', 'contato',
];
// Only glue words may sit between the verb and the person, so "quero saber se a pessoa que
// reservou…" is not read as a request for a person.
const GLUE = ['com', 'c', 'o', 'a', 'os', 'as', 'um', 'uma', 'algum', 'alguma', 'me', 'pra', 'para', 'pro', 'p', 'ao', 'seu', 'sua', 'de', 'da', 'do', 'na', 'no', 'por', 'favor'];
const alt = (xs: string[]) => xs.join('|');
const ASK_FOR_PERSON = new RegExp(`\\b(${alt(ASK_VERBS)})( (${alt(GLUE)}))* (${alt(PERSON_NOUNS)})\\b`);
const HUMAN_PHRASES = [
  /\batendentes?\b/,
  /\bhuman[oa]s?\b/,
  /\b(quero|queria|gostaria de|preciso|posso|da pra|tem como|poderia|consigo) (falar|conversar) com\b/,
  /\bpessoa (de verdade|real)\b/,
  /\b(nao quero|chega de|cansei d[eo]|para de|sair do) (falar com )?(o |um |uma |esse |essa )?(robo|bot|maquina|ia|chatbot)\b/,
];
// A message that is only the person ("Recepção!", "gerente por favor") asks for them too.
const POLITE_FILLER = new Set(['o', 'a', 'um', 'uma', 'por', 'favor', 'pf', 'pfv', 'pls', 'please', 'agora', 'urgente', 'ja', 'oi', 'ola']);
const PERSON_SET = new Set(PERSON_NOUNS);

export function wantsHuman(text: string): boolean {
  const t = words(text).join(' ');
  if (!t) return false;
  if (HUMAN_PHRASES.some((re) => re.test(t)) || ASK_FOR_PERSON.test(t)) return true;
  const rest = t.split(' ').filter((w) => !POLITE_FILLER.has(w));
  return rest.length > 0 && rest.length <= 2 && rest.every((w) => PERSON_SET.has(w));
}

// ---------------------------------------------------------------------------------------------
// Complaints

const COMPLAINT_PATTERNS = [
  /\breclama(cao|coes|r|ndo|do)?\b/,
  /\breclamo\b/,
  /\breclame ?aqui\b/,
  /\babsurd[oa]s?\b/,
  /\bpessim[oa]s?\b/,
  /\bhorrive(l|is)\b/,
  /\bhorros[oa]s?\b/,
  /\bprocon\b/,
  /\breembols[oa]r?\b/,
  /\bestorn[oa]r?\b/,
  /\bdinheiro de volta\b/,
  /\b(nao|nada) (esta |ta )?funciona(ndo)?\b/,
  /\bquebrad[oa]s?\b/,
  /\bsuj[oa]s?\b/,
  /\bsujeira\b/,
  /\bmofo\b/,
  /\binsatisfeit[oa]s?\b/,
  /\bdecepcionad[oa]s?\b/,
  /\bdescaso\b/,
  /\bfalta de respeito\b/,
  /\bdesrespeito\b/,
  /\bvergonha\b/,
  /\blamentavel\b/,
  /\binaceitavel\b/,
  /\bprocessar\b/,
  /\b(cobranca|cobrado|cobrada|cobraram|cobrou) (indevid[oa]|a mais|errad[oa])\b/,
  /\bo pior\b/,
  /\bpior (atendimento|hotel|pousada|lugar|experiencia|servico)\b/,
  /\bninguem (me )?(responde|atende)\b/,
];
// Saying there is nothing to complain about is praise, not a complaint.
const NOT_A_COMPLAINT = /\b(nenhuma reclamacao|sem reclamac(ao|oes)|nada a reclamar|(nao tenho|nao tive) (do que|nada a|nenhuma) reclama(r|cao)|sem (nenhuma )?reclamacao)\b/g;

export function isComplaint(text: string): boolean {
  const t = words(text).join(' ').replace(NOT_A_COMPLAINT, ' ');
  return COMPLAINT_PATTERNS.some((re) => re.test(t));
}

// ---------------------------------------------------------------------------------------------
// Greetings

const GREETING_PHRASES = [
  /\bo+i+e*\b/, /\bola+\b/, /\balo\b/, /\bbo[am] (dia|tarde|noite)\b/, /\be ai\b/, /\beai\b/,
  /\bopa+\b/, /\bsalve\b/, /\bhello\b/, /\bhi\b/, /\bhey\b/, /\bboas\b/,
];
// Small talk that often rides along with a greeting without asking anything.
const GREETING_FILLER = new Set([
  'tudo', 'td', 'bem', 'bom', 'beleza', 'blz', 'como', 'vai', 'vao', 'esta', 'estao', 'voce', 'voces', 'vc', 'vcs',
  'pessoal', 'gente', 'amigo', 'amiga', 'amigos', 'e', 'ai', 'ei', 'dia', 'tarde', 'noite', 'boa', 'a', 'o', 'com',
  'there', 'everyone',
]);

// True only when the message is (almost) nothing but a greeting: "Oi, tudo bem?" is, "Oi, tem
// vaga pra sábado?" is not — that one deserves an answer, not a welcome. Guests often greet the
// business by name, so its words do not count as content.
export function isGreeting(text: string, businessName = ''): boolean {
  const t = words(text).join(' ');
  if (!t || !GREETING_PHRASES.some((re) => re.test(t))) return false;
  let rest = t;
  for (const re of GREETING_PHRASES) rest = rest.replace(new RegExp(re.source, 'g'), ' ');
  const name = new Set(words(businessName));
  const left = rest.split(' ').filter((w) => w && !GREETING_FILLER.has(w) && !name.has(w));
  return left.length <= 1; // e.g. "Oi, pousada" or the guest's own name
}

// ---------------------------------------------------------------------------------------------
// FAQ matching

const STOPWORDS = new Set([
  'a', 'o', 'as', 'os', 'um', 'uma', 'uns', 'umas', 'de', 'da', 'do', 'das', 'dos', 'em', 'na', 'no', 'nas', 'nos',
  'para', 'pra', 'pro', 'por', 'pela', 'pelo', 'com', 'sem', 'e', 'ou', 'que', 'qual', 'quais', 'quanto', 'quanta',
  'como', 'onde', 'quando', 'quem', 'porque', 'pois', 'se', 'ao', 'aos', 'eh', 'ser', 'sao', 'esta', 'estao', 'estar',
  'ha', 'tem', 'tenho', 'temos', 'ter', 'teria', 'voce', 'voces', 'vc', 'vcs', 'eu', 'me', 'mim', 'meu', 'minha',
  'meus', 'minhas', 'seu', 'sua', 'seus', 'suas', 'nosso', 'nossa', 'nao', 'sim', 'mais', 'muito', 'muita', 'ja',
  'tambem', 'isso', 'isto', 'esse', 'essa', 'este', 'aqui', 'ai', 'la', 'oi', 'ola', 'bom', 'boa', 'dia', 'tarde',
  'noite', 'obrigado', 'obrigada', 'favor', 'gostaria', 'queria', 'quero', 'saber', 'posso', 'pode', 'podem',
  'poderia', 'preciso', 'tudo', 'bem', 'ok', 'entao', 'mas', 'so', 'ate', 'sobre', 'algum', 'alguma', 'vou',
  'vai', 'ele', 'ela', 'eles', 'elas', 'lhe', 'fica', 'ficar', 'existe', 'alguem', 'gente', 'vcs', 'tipo',
]);

// Crude Portuguese plural folding, applied alike to the guest's words and the FAQ's.
function stem(w: string): string {
  if (w.length <= 3) return w;
  if (w.endsWith('oes') || w.endsWith('aes')) return `${w.slice(0, -3)}ao`;
  if (w.endsWith('ais')) return `${w.slice(0, -3)}al`;
  if (w.endsWith('eis')) return `${w.slice(0, -3)}el`;
  if (w.endsWith('ns')) return `${w.slice(0, -2)}m`;
  if (w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

// Same word, or the same root ("reserva"/"reservar", "cancelar"/"cancelamento"). Six letters of
// shared prefix keep "quarto" (room) apart from "quarta" (Wednesday).
const MIN_SHARED_PREFIX = 6;
function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.length < MIN_SHARED_PREFIX || b.length < MIN_SHARED_PREFIX) return false;
  return a.slice(0, MIN_SHARED_PREFIX) === b.slice(0, MIN_SHARED_PREFIX);
}

const contentWords = (s: string) => [...new Set(words(s).filter((w) => w.length > 1 && !STOPWORDS.has(w)).map(stem))];

// A keyword is a tenant-curated phrase: it matches as consecutive words, or glued ("check in",
// "checkin" and "check-in" are one keyword).
function keywordIn(keyword: string, textWords: string[]): boolean {
  const kw = words(keyword).map(stem);
  if (kw.length === 0) return false;
  const stemmed = textWords.map(stem);
  for (let i = 0; i + kw.length <= stemmed.length; i++) {
    if (kw.every((k, j) => sameWord(k, stemmed[i + j] as string))) return true;
  }
  const glued = kw.join('');
  for (let i = 0; i < textWords.length; i++) {
    let acc = '';
    for (let j = i; j < textWords.length && acc.length < glued.length; j++) {
      acc += textWords[j];
      if (acc === glued) return true;
    }
  }
  return false;
}

// A single matching keyword is enough evidence; without one, most of the FAQ question's content
// words must appear (so "horário" alone picks neither the check-in nor the check-out entry).
export const FAQ_MIN_SCORE = 0.6;

export function faqScore(text: string, entry: FaqEntry): number {
  const textWords = words(text);
  const guest = contentWords(text);
  const question = contentWords(entry.question);
  const qHits = question.filter((q) => guest.some((g) => sameWord(q, g))).length;
  const kwHits = (entry.keywords ?? []).filter((k) => keywordIn(k, textWords)).length;
  const coverage = question.length ? qHits / question.length : 0;
  const kwScore = kwHits === 0 ? 0 : Math.min(1, 0.6 + 0.15 * (kwHits - 1));
  // Both kinds of evidence together beat either alone.
  return Math.min(1, Math.max(coverage, kwScore) + 0.2 * Math.min(coverage, kwScore));
}

export function matchFaq<E extends FaqEntry>(text: string, faq: readonly E[]): { entry: E; score: number } | null {
  let best: { entry: E; score: number } | null = null;
  for (const entry of faq) {
    const score = faqScore(text, entry);
    if (score >= FAQ_MIN_SCORE && (!best || score > best.score)) best = { entry, score };
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// The decision

export interface RuleInput {
  text: string;
  businessName: string;
  faq: readonly FaqEntry[];
  isFirstMessage: boolean;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

// Anything the rules cannot answer from the tenant's own FAQ goes to a person: a wrong price or
// a promised room costs the business more than a short wait.
export function ruleBasedDecision({ text, businessName, faq, isFirstMessage }: RuleInput): AiDecision {
  if (wantsHuman(text)) {
    return { action: 'escalate', intent: 'human_request', confidence: 0.95, reason: 'guest asked for a person' };
  }
  if (isComplaint(text)) {
    return { action: 'escalate', intent: 'complaint', confidence: 0.8, reason: 'complaint detected' };
  }
  const welcome = `Olá! Você está falando com o atendimento virtual de ${businessName}.`;
  const hit = matchFaq(text, faq);
  if (hit) {
    const reply = isFirstMessage ? `${welcome}\n\n${hit.entry.answer}\n\n${HUMAN_HANDOFF_HINT}` : hit.entry.answer;
    return { action: 'reply', reply, intent: 'faq', confidence: round2(0.5 + 0.45 * hit.score), reason: `FAQ: ${hit.entry.question}` };
  }
  if (isGreeting(text, businessName)) {
    return {
      action: 'reply',
      reply: `${welcome} Como posso ajudar? Pode mandar a sua dúvida.\n\n${HUMAN_HANDOFF_HINT}`,
      intent: 'greeting',
      confidence: 0.9,
    };
  }
  return { action: 'escalate', intent: 'unknown', confidence: 0.2, reason: 'no FAQ entry answers this message' };
}

// ---------------------------------------------------------------------------------------------
// Structured output contract with the model

// OpenAI strict mode needs every property required and optional ones expressed as nullable;
// numeric bounds are left out (not every compatible provider honours them) and enforced below.
export const AI_DECISION_JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['action', 'reply', 'intent', 'confidence', 'reason'],
  properties: {
    action: {
      type: 'string',
      enum: ['reply', 'escalate'],
      description: "'reply' para responder você mesmo; 'escalate' para passar a conversa a um atendente humano.",
    },
    reply: {
      type: ['string', 'null'],
      description: 'Mensagem em português do Brasil para o cliente quando action = reply; null quando escalate.',
    },
    intent: {
      type: 'string',
      description: 'Intenção do cliente, em snake_case: greeting, faq, question, booking, payment, complaint, human_request, other.',
    },
    confidence: { type: 'number', description: 'Confiança na decisão, de 0 a 1.' },
    reason: { type: ['string', 'null'], description: 'Motivo curto da decisão (para a equipe, não para o cliente).' },
  },
} as const;

// What the model sends back, checked before anything reaches the guest.
export const aiDecisionSchema = z.object({
  action: z.enum(['reply', 'escalate']),
  reply: z.string().nullable(),
  intent: z.string(),
  confidence: z.number(),
  reason: z.string().nullable(),
});
export type AiDecisionWire = z.infer<typeof aiDecisionSchema>;

// Turns a validated model answer into a decision the workflow can act on without second-guessing.
export function normalizeAiDecision(d: AiDecisionWire): AiDecision {
  const confidence = Number.isFinite(d.confidence) ? Math.min(1, Math.max(0, d.confidence)) : 0;
  const intent = normalizeText(d.intent).replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 64) || 'unknown';
  const reason = d.reason?.trim() ? d.reason.trim().slice(0, 500) : undefined;
  const reply = d.reply?.trim();
  if (d.action === 'reply' && !reply) {
    return { action: 'escalate', intent, confidence, reason: 'model chose to reply but gave no text' };
  }
  if (d.action === 'escalate') return { action: 'escalate', intent, confidence, ...(reason ? { reason } : {}) };
  return { action: 'reply', reply, intent, confidence, ...(reason ? { reason } : {}) };
}

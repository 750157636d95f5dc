import { bidAmountCents } from './consortium-installment';
import type { GroupRules } from './consortium-rules';
import type { BidType, QuotaStatus } from './consortium-statuses';

// Whether a bid may be placed, by the group's rules in force: the bid types it takes, the limits
// of each, and only from an active quota that is up to date. Refusals carry their pt-BR reason.

export interface BidderStanding {
  number: number;
  status: QuotaStatus;
  upToDate: boolean;
}

export interface BidOffer {
  type: BidType;
  percent?: number | undefined;
  amountCents?: number | undefined;
}

export type BidCheck =
  | { ok: true; percent: number; amountCents: number }
  | { ok: false; code: 'invalid_bid' | 'quota_not_eligible'; reason: string };

const TYPE_NAMES: Record<BidType, string> = { livre: 'lance livre', fixo: 'lance fixo', embutido: 'lance embutido' };
const pct = (p: number) => `${String(p).replace('.', ',')}%`;

// Shares are kept to 4 decimals (what the bids table stores).
const round4 = (p: number) => Math.round(p * 10_000) / 10_000;

export function checkBid(rules: GroupRules, creditCents: number, bidder: BidderStanding, offer: BidOffer): BidCheck {
  if (bidder.status === 'contemplated') return { ok: false, code: 'quota_not_eligible', reason: `A cota ${bidder.number} já foi contemplada.` };
  if (bidder.status === 'excluded') return { ok: false, code: 'quota_not_eligible', reason: `A cota ${bidder.number} está excluída do grupo.` };
  if (!bidder.upToDate) return { ok: false, code: 'quota_not_eligible', reason: `A cota ${bidder.number} tem parcelas em atraso; regularize para ofertar lance.` };
  if (!rules.bidTypes.includes(offer.type)) return { ok: false, code: 'invalid_bid', reason: `Este grupo não aceita ${TYPE_NAMES[offer.type]}.` };

  const hasPercent = offer.percent !== undefined && offer.percent !== null;
  const hasAmount = offer.amountCents !== undefined && offer.amountCents !== null;
  if (hasPercent === hasAmount) return { ok: false, code: 'invalid_bid', reason: 'Informe o lance em percentual do crédito ou em valor, um dos dois.' };
  // Money is whole centavos: a fraction would be stored as one amount and charged as another.
  if (hasAmount && !Number.isInteger(offer.amountCents)) return { ok: false, code: 'invalid_bid', reason: 'O valor do lance deve ser um número inteiro de centavos.' };
  const percent = hasPercent ? round4(offer.percent!) : round4((offer.amountCents! * 100) / creditCents);
  // The amount itself too: rounding the share to 4 decimals could pass a centavo above the credit.
  if (!(percent > 0) || percent > 100 || (hasAmount && offer.amountCents! > creditCents)) return { ok: false, code: 'invalid_bid', reason: 'O lance deve ser maior que zero e no máximo o valor do crédito.' };

  const limits = rules.bidLimits;
  switch (offer.type) {
    case 'livre':
      if (percent < limits.minPercent) return { ok: false, code: 'invalid_bid', reason: `O lance livre mínimo deste grupo é ${pct(limits.minPercent)} do crédito.` };
      if (percent > limits.maxPercent) return { ok: false, code: 'invalid_bid', reason: `O lance livre máximo deste grupo é ${pct(limits.maxPercent)} do crédito.` };
      break;
    case 'fixo':
      if (!limits.fixedPercents.includes(percent)) return { ok: false, code: 'invalid_bid', reason: `O lance fixo deste grupo é de ${limits.fixedPercents.map(pct).join(' ou ')} do crédito.` };
      break;
    case 'embutido':
      if (percent > limits.maxEmbeddedPercent) return { ok: false, code: 'invalid_bid', reason: `O lance embutido pode usar no máximo ${pct(limits.maxEmbeddedPercent)} do crédito.` };
      break;
  }
  return { ok: true, percent, amountCents: hasAmount && !hasPercent ? offer.amountCents! : bidAmountCents(creditCents, percent) };
}

import { drawRuleFits, type GroupRules } from './consortium-rules';
import { formatBrl } from './contract-template';
import type { BidType, ContemplationKind, ContemplationStatus, QuotaStatus } from './consortium-statuses';
import { drawnQuota, equivalence, rankBids } from './draw';

// The result of one assembly, derived from its inputs alone: what the audit record holds and what
// `npm run verify:assembly` recomputes. The assembly workflow runs this same function at the
// close and again each time a winning bid is paid or its deadline passes. Pure and deterministic.
//
// The order (Embracon's published practice, Lei 11.795 art. 22–23): draws among active quotas,
// draws among excluded quotas (restitution), then bids by rank; every contemplation needs the
// money in the common fund, and the reserve fund may cover the shortfall of a draw where the
// group's rules say so.

export interface AssemblyQuota {
  number: number;
  // As frozen on the extraction date.
  status: QuotaStatus;
  // Every installment due by the extraction date paid by then (Disal's, Mapfre's rule).
  upToDate: boolean;
  // An excluded quota's restitution: what it paid into the common fund. 0 for others.
  restitutionCents: number;
  // An excluded quota already restituted takes no part in a draw again.
  restituted: boolean;
}

export interface AssemblyBid {
  id: string;
  quota: number;
  type: BidType;
  percent: number; // share of the credit
  amountCents: number; // that share in centavos
  placedAt: string; // ISO instant
}

export type BidPaymentOutcome = 'paid' | 'unpaid';

export interface AssemblyInputs {
  groupId: string;
  month: string; // YYYY-MM
  quotaCount: number;
  creditCents: number;
  ruleVersion: number;
  rules: GroupRules;
  extraction: { date: string; contest: string | null; prizes: string[] };
  quotas: AssemblyQuota[];
  // The live bids at the close of bidding, one per quota.
  bids: AssemblyBid[];
  fund: { commonCents: number; reserveCents: number };
  // What became of the winning bids (livre and fixo are paid after the assembly; embutido comes
  // out of the credit and needs no entry). A winning bid absent here is still awaiting payment.
  bidPayments: Record<string, BidPaymentOutcome>;
}

export interface Contemplation {
  kind: ContemplationKind;
  quota: number;
  status: ContemplationStatus;
  // The credit released (a bid embutido's is less its share); 0 for a restitution.
  creditCents: number;
  restitutionCents: number;
  fromReserveCents: number;
  bidId: string | null;
  bidPercent: number | null;
  bidAmountCents: number | null;
}

export type BidOutcome = 'won' | 'pending_payment' | 'disqualified' | 'lost' | 'ineligible';

export interface RankedBid {
  position: number; // 1-based, among the eligible bids
  bidId: string;
  quota: number;
  type: BidType;
  percent: number;
  amountCents: number;
  distance: number; // |quota − reference|
}

export interface DerivationStep {
  step: string;
  text: string; // pt-BR, for members and auditors
  data: Record<string, unknown>;
}

export interface AssemblyResult {
  draw: { candidates: number[]; quota: number | null };
  // The number bids' ties are measured from: the quota drawn among active ones, or the first
  // candidate brought into the group when none could be drawn.
  referenceQuota: number;
  excludedDraws: { candidates: number[]; quota: number | null }[];
  ranking: RankedBid[];
  bidOutcomes: Record<string, { outcome: BidOutcome; reason: string | null }>;
  contemplations: Contemplation[];
  fundAfter: { commonCents: number; reserveCents: number };
  // False while a winning bid waits for its payment.
  complete: boolean;
  steps: DerivationStep[];
}

const brl = formatBrl;

export function computeAssemblyResult(inputs: AssemblyInputs): AssemblyResult {
  const { rules, quotaCount: n, creditCents: credit } = inputs;
  // The loteria rules read 3 digits (groups up to 1000), the radial one up to 5; a record claiming
  // more is not one this module can recompute (and its radial search would run for ever).
  if (!drawRuleFits(rules.drawRule, n)) throw new RangeError(`the draw rule ${rules.drawRule} does not fit a group of ${n} quotas`);
  const prizes = inputs.extraction.prizes;
  const steps: DerivationStep[] = [];
  let common = inputs.fund.commonCents;
  let reserve = inputs.fund.reserveCents;
  const contemplations: Contemplation[] = [];
  const taken = new Set<number>();

  const quotas = [...inputs.quotas].sort((a, b) => a.number - b.number);
  const activeEligible = quotas.filter((q) => q.status === 'active' && q.upToDate).map((q) => q.number);
  const excludedPool = quotas.filter((q) => q.status === 'excluded' && !q.restituted).map((q) => q.number);
  steps.push({
    step: 'inputs',
    text: `Fundo comum ${brl(common)}, fundo de reserva ${brl(reserve)}, crédito ${brl(credit)}; ${activeEligible.length} cota(s) ativa(s) em dia, ${excludedPool.length} excluída(s) a restituir; regra ${rules.drawRule}, versão ${inputs.ruleVersion}.`,
    data: { commonCents: common, reserveCents: reserve, creditCents: credit, activeEligible, excludedPool, drawRule: rules.drawRule, ruleVersion: inputs.ruleVersion, prizes },
  });

  // The first draw among active quotas also gives the bids' reference number.
  const firstDraw = drawnQuota(rules.drawRule, prizes, n, activeEligible);
  const referenceQuota = firstDraw.quota ?? equivalence(firstDraw.candidates[0]!, n);
  steps.push({
    step: 'draw',
    text: firstDraw.quota === null ? `Nenhuma cota ativa em dia para o sorteio; referência para desempate: ${referenceQuota}.` : `Cota sorteada entre as ativas: ${firstDraw.quota} (candidatos ${firstDraw.candidates.join(', ')}).`,
    data: { candidates: firstDraw.candidates, quota: firstDraw.quota, referenceQuota },
  });

  const fundFor = (need: number, reserveAllowed: boolean): { fromReserve: number } | null => {
    const available = common + (reserveAllowed ? reserve : 0);
    if (available < need) return null;
    const fromCommon = Math.min(common, need);
    const fromReserve = need - fromCommon;
    common -= fromCommon;
    reserve -= fromReserve;
    return { fromReserve };
  };

  // 1. Draws among active quotas.
  for (let i = 0; i < rules.contemplations.byDraw; i++) {
    const d = i === 0 ? firstDraw : drawnQuota(rules.drawRule, prizes, n, activeEligible.filter((q) => !taken.has(q)));
    if (d.quota === null) {
      if (i > 0) steps.push({ step: 'draw', text: `Sorteio ${i + 1}: nenhuma cota ativa em dia restante.`, data: { index: i + 1, candidates: d.candidates, quota: null } });
      break;
    }
    const paid = fundFor(credit, rules.reserveFundCoversDraws);
    if (!paid) {
      steps.push({ step: 'fund_short', text: `Sorteio ${i + 1}: o fundo não cobre um crédito de ${brl(credit)}.`, data: { kind: 'draw', index: i + 1, commonCents: common, reserveCents: reserve } });
      break;
    }
    if (i > 0) steps.push({ step: 'draw', text: `Sorteio ${i + 1}: cota ${d.quota}.`, data: { index: i + 1, candidates: d.candidates, quota: d.quota } });
    taken.add(d.quota);
    contemplations.push({ kind: 'draw', quota: d.quota, status: 'confirmed', creditCents: credit, restitutionCents: 0, fromReserveCents: paid.fromReserve, bidId: null, bidPercent: null, bidAmountCents: null });
    steps.push({
      step: 'contemplated',
      text: `Cota ${d.quota} contemplada por sorteio: crédito de ${brl(credit)}${paid.fromReserve ? `, ${brl(paid.fromReserve)} do fundo de reserva` : ''}.`,
      data: { kind: 'draw', quota: d.quota, fromReserveCents: paid.fromReserve, commonCents: common, reserveCents: reserve },
    });
  }

  // 2. Draws among excluded quotas: their restitution.
  const excludedDraws: AssemblyResult['excludedDraws'] = [];
  const restitutionOf = new Map(quotas.map((q) => [q.number, q.restitutionCents]));
  const drawnExcluded = new Set<number>();
  for (let i = 0; i < rules.contemplations.byExcludedDraw; i++) {
    const d = drawnQuota(rules.drawRule, prizes, n, excludedPool.filter((q) => !drawnExcluded.has(q)));
    excludedDraws.push(d);
    if (d.quota === null) {
      steps.push({ step: 'excluded_draw', text: 'Nenhuma cota excluída a restituir.', data: { index: i + 1, candidates: d.candidates, quota: null } });
      break;
    }
    const need = restitutionOf.get(d.quota) ?? 0;
    const paid = fundFor(need, rules.reserveFundCoversDraws);
    if (!paid) {
      steps.push({ step: 'fund_short', text: `Restituição da cota ${d.quota}: o fundo não cobre ${brl(need)}.`, data: { kind: 'excluded_draw', quota: d.quota, needCents: need, commonCents: common, reserveCents: reserve } });
      break;
    }
    drawnExcluded.add(d.quota);
    contemplations.push({ kind: 'excluded_draw', quota: d.quota, status: 'confirmed', creditCents: 0, restitutionCents: need, fromReserveCents: paid.fromReserve, bidId: null, bidPercent: null, bidAmountCents: null });
    steps.push({
      step: 'contemplated',
      text: `Cota excluída ${d.quota} sorteada: restituição de ${brl(need)}.`,
      data: { kind: 'excluded_draw', quota: d.quota, candidates: d.candidates, restitutionCents: need, fromReserveCents: paid.fromReserve, commonCents: common, reserveCents: reserve },
    });
  }

  // 3. Bids, by rank, among active quotas up to date and not drawn.
  const bidOutcomes: AssemblyResult['bidOutcomes'] = {};
  const standing = new Map(quotas.map((q) => [q.number, q]));
  const valid: AssemblyBid[] = [];
  for (const bid of [...inputs.bids].sort((a, b) => a.quota - b.quota)) {
    const q = standing.get(bid.quota);
    const reason = !q || q.status !== 'active' ? 'Cota não está ativa.' : !q.upToDate ? 'Cota em atraso na data da extração.' : taken.has(bid.quota) ? 'Cota contemplada por sorteio nesta assembleia.' : null;
    if (reason) bidOutcomes[bid.id] = { outcome: 'ineligible', reason };
    else valid.push(bid);
  }
  const ranked = rankBids(valid, referenceQuota);
  const ranking: RankedBid[] = ranked.map((b, i) => ({ position: i + 1, bidId: b.id, quota: b.quota, type: b.type, percent: b.percent, amountCents: b.amountCents, distance: Math.abs(b.quota - referenceQuota) }));
  steps.push({
    step: 'ranking',
    text: ranking.length ? `Classificação dos lances: ${ranking.map((r) => `${r.position}º cota ${r.quota} (${r.percent}%)`).join('; ')}.` : 'Nenhum lance válido.',
    data: { referenceQuota, ranking: ranking.map((r) => ({ position: r.position, quota: r.quota, percent: r.percent, distance: r.distance })) },
  });

  let won = 0;
  let fundExhausted = false;
  for (const bid of ranked) {
    if (won >= rules.contemplations.byBid || fundExhausted) {
      bidOutcomes[bid.id] = { outcome: 'lost', reason: fundExhausted ? 'O fundo comum não comporta mais contemplações.' : 'Número de contemplações por lance já atingido.' };
      continue;
    }
    const outcome = bid.type === 'embutido' ? 'paid' : inputs.bidPayments[bid.id];
    if (outcome === 'unpaid') {
      bidOutcomes[bid.id] = { outcome: 'disqualified', reason: 'Lance vencedor não pago no prazo.' };
      steps.push({ step: 'disqualified', text: `Lance da cota ${bid.quota} desclassificado: não pago no prazo.`, data: { bidId: bid.id, quota: bid.quota } });
      continue;
    }
    // The bid's own money (paid in, or kept out of the credit) covers its share.
    const need = credit - bid.amountCents;
    if (common < need) {
      fundExhausted = true;
      bidOutcomes[bid.id] = { outcome: 'lost', reason: 'O fundo comum não comporta mais contemplações.' };
      steps.push({ step: 'fund_short', text: `Lance da cota ${bid.quota}: o fundo comum (${brl(common)}) não cobre ${brl(need)}.`, data: { kind: 'bid', quota: bid.quota, needCents: need, commonCents: common } });
      continue;
    }
    common -= need;
    won++;
    const status: ContemplationStatus = outcome === 'paid' ? 'confirmed' : 'pending_payment';
    bidOutcomes[bid.id] = { outcome: status === 'confirmed' ? 'won' : 'pending_payment', reason: null };
    const released = bid.type === 'embutido' ? credit - bid.amountCents : credit;
    contemplations.push({ kind: 'bid', quota: bid.quota, status, creditCents: released, restitutionCents: 0, fromReserveCents: 0, bidId: bid.id, bidPercent: bid.percent, bidAmountCents: bid.amountCents });
    steps.push({
      step: 'contemplated',
      text: `Cota ${bid.quota} contemplada por lance ${bid.type} de ${bid.percent}% (${brl(bid.amountCents)})${status === 'pending_payment' ? ', aguardando o pagamento do lance' : ''}.`,
      data: { kind: 'bid', quota: bid.quota, bidId: bid.id, status, creditCents: released, commonCents: common },
    });
  }

  const complete = contemplations.every((c) => c.status !== 'pending_payment');
  steps.push({
    step: 'result',
    text: `${contemplations.length} contemplação(ões); fundo comum ${brl(common)}, fundo de reserva ${brl(reserve)}${complete ? '' : '; lances aguardando pagamento'}.`,
    data: { contemplated: contemplations.map((c) => ({ kind: c.kind, quota: c.quota, status: c.status })), commonCents: common, reserveCents: reserve, complete },
  });

  return {
    draw: { candidates: firstDraw.candidates, quota: rules.contemplations.byDraw > 0 ? firstDraw.quota : null },
    referenceQuota,
    excludedDraws,
    ranking,
    bidOutcomes,
    contemplations,
    fundAfter: { commonCents: common, reserveCents: reserve },
    complete,
    steps,
  };
}

// The winning bids still waiting for their payment, in contemplation order.
export function pendingBidPayments(result: AssemblyResult): string[] {
  return result.contemplations.filter((c) => c.status === 'pending_payment' && c.bidId).map((c) => c.bidId!);
}

import type { AssemblyBid, AssemblyInputs, AssemblyQuota } from '../../domain/assembly-result';
import { ASSEMBLY_RECORD_FORMAT, sealAssemblyRecord, type AssemblyRecord } from '../../domain/assembly-record';
import { computeAssemblyResult } from '../../domain/assembly-result';
import { DEFAULT_GROUP_RULES } from '../../domain/consortium-rules';

// One assembly's inputs, small enough to work out by hand: a group of 20 quotas, a R$ 10.000
// credit, the default rules (loteria-15; 1 draw, 1 restitution draw, 2 bids).
//
// Prizes 12007 34012 56003 78015 90018 → loteria-15 candidates, per prize d3d4d5 d2d3d4 d1d2d3:
//   7 200 120 | 12 401 340 | 3 600 560 | 15 801 780 | 18 1 900
// Quotas: 3 is late; 5 (restitution R$ 1.200) and 9 (R$ 800) are excluded; 18 was contemplated
// before; the rest are active and up to date.
// Draw among active: 7. Among excluded [5, 9]: no candidate is one, radial from 7 → 8, 6, 9: 9.
// Bids (reference 7): 12 fixo 50% (distance 5), 10 livre 30% (3), 4 livre 30% (3, lower number),
// 14 embutido 25%; 3 (late), 7 (drawn) and 18 (contemplated) are ineligible.
export const CREDIT = 1_000_000;
export const PRIZES = ['12007', '34012', '56003', '78015', '90018'];
export const L15 = [7, 200, 120, 12, 401, 340, 3, 600, 560, 15, 801, 780, 18, 1, 900];

export function quotas(overrides: Record<number, Partial<AssemblyQuota>> = {}): AssemblyQuota[] {
  const base: Record<number, Partial<AssemblyQuota>> = {
    3: { upToDate: false },
    5: { status: 'excluded', upToDate: false, restitutionCents: 120_000 },
    9: { status: 'excluded', upToDate: false, restitutionCents: 80_000 },
    18: { status: 'contemplated' },
  };
  return Array.from({ length: 20 }, (_, i) => ({
    number: i + 1,
    status: 'active' as const,
    upToDate: true,
    restitutionCents: 0,
    restituted: false,
    ...base[i + 1],
    ...overrides[i + 1],
  }));
}

const bid = (quota: number, type: AssemblyBid['type'], percent: number): AssemblyBid => ({
  id: `b-${quota}`,
  quota,
  type,
  percent,
  amountCents: (CREDIT * percent) / 100,
  placedAt: `2026-04-15T1${quota % 10}:00:00.000Z`,
});

export const BIDS: AssemblyBid[] = [
  bid(10, 'livre', 30),
  bid(4, 'livre', 30),
  bid(12, 'fixo', 50),
  bid(3, 'livre', 60),
  bid(7, 'livre', 70),
  bid(14, 'embutido', 25),
  bid(18, 'livre', 40),
];

export function assemblyInputs(over: Partial<AssemblyInputs> = {}): AssemblyInputs {
  return {
    groupId: '00000000-0000-4000-8000-000000000010',
    month: '2026-04',
    quotaCount: 20,
    creditCents: CREDIT,
    ruleVersion: 2,
    rules: DEFAULT_GROUP_RULES,
    extraction: { date: '2026-04-18', contest: '06050', prizes: PRIZES },
    quotas: quotas(),
    bids: BIDS,
    fund: { commonCents: 3_000_000, reserveCents: 200_000 },
    bidPayments: {},
    ...over,
  };
}

// A sealed record around the inputs, its result computed by the rule module.
export function sealedRecord(inputs: AssemblyInputs = assemblyInputs()): AssemblyRecord {
  const lottery = { contest: inputs.extraction.contest, drawDate: inputs.extraction.date, prizes: inputs.extraction.prizes, source: 'operator' as const, actor: { type: 'user' as const, id: 'u-1' }, at: '2026-04-18T23:10:00.000Z' };
  const tenantId = '00000000-0000-4000-8000-000000000001';
  return sealAssemblyRecord({
    format: ASSEMBLY_RECORD_FORMAT,
    tenantId,
    assemblyId: '00000000-0000-4000-8000-000000000100',
    workflowId: `assembly:${tenantId}:${inputs.groupId}:${inputs.month}`,
    group: { id: inputs.groupId, code: 'G-010', name: 'Grupo Autos 010' },
    month: inputs.month,
    assemblyDate: '2026-04-22',
    biddingClosedAt: '2026-04-18T22:00:00.000Z',
    publishedAt: '2026-04-19T12:00:00.000Z',
    closedAt: '2026-04-24T12:00:00.000Z',
    lottery,
    lotteryCorrections: [
      { previous: { ...lottery, prizes: ['12070', ...PRIZES.slice(1)], at: '2026-04-18T23:00:00.000Z' }, next: lottery, reason: 'Primeiro prêmio digitado com dois dígitos trocados.' },
    ],
    inputs,
    result: computeAssemblyResult(inputs),
  });
}

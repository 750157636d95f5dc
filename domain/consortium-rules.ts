import { z } from 'zod';
import { BID_APPLICATIONS, BID_TIE_BREAKS, BID_TYPES, DRAW_RULES, EXTRACTION_RULES } from './consortium-statuses';

// A group's rules (its regulamento's assembly clauses), versioned: each change is a new version
// published with who, when and why (BCB 285: published with their history until the group
// closes). An assembly uses the version in force when its bidding opened, and its record names it.
// Long waits are here too, as group settings, so a test group runs in seconds.

const percent = z.number().min(0).max(100);

export const groupRulesSchema = z
  .object({
    // Which bids the group takes.
    bidTypes: z.array(z.enum(BID_TYPES)).min(1).max(BID_TYPES.length),
    bidLimits: z
      .object({
        // Lance livre: the least and the most share of the credit a bid may offer.
        minPercent: percent,
        maxPercent: percent,
        // Lance fixo: the shares the contract sets (e.g. 25 and 50).
        fixedPercents: z.array(percent.positive()).max(5),
        // Lance embutido: the most of the credit itself a bid may use.
        maxEmbeddedPercent: percent,
      })
      .strict(),
    // Contemplations per assembly, in this order, each limited by the common fund.
    contemplations: z
      .object({
        byDraw: z.number().int().min(0).max(20),
        byExcludedDraw: z.number().int().min(0).max(20),
        byBid: z.number().int().min(0).max(50),
      })
      .strict(),
    // BCB 285: the reserve fund may cover a common-fund shortfall for the draws.
    reserveFundCoversDraws: z.boolean(),
    drawRule: z.enum(DRAW_RULES),
    tieBreak: z.enum(BID_TIE_BREAKS),
    extraction: z.enum(EXTRACTION_RULES),
    bidApplication: z.enum(BID_APPLICATIONS),
    // Bids are taken until the end of this many days before the assembly (and never after the
    // lottery's extraction starts, 19:00 in Brasília).
    biddingClosesDaysBefore: z.number().int().min(0).max(15),
    // The schedule opens bidding this many days before the assembly.
    biddingOpensDaysBefore: z.number().int().min(1).max(28),
    // A winning bid unpaid after this many business days is disqualified.
    bidPaymentBusinessDays: z.number().int().min(1).max(10),
    // BCB 285: exclusion after at most 3 consecutive missed due dates.
    exclusionAfterUnpaid: z.number().int().min(1).max(3),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.bidLimits.minPercent > r.bidLimits.maxPercent) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['bidLimits', 'minPercent'], message: 'O lance mínimo não pode passar do máximo.' });
    }
    if (r.bidTypes.includes('fixo') && r.bidLimits.fixedPercents.length === 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['bidLimits', 'fixedPercents'], message: 'O lance fixo precisa de ao menos um percentual.' });
    }
    // Bids close at the end of the day `biddingClosesDaysBefore` before the assembly: opening on
    // that day or later would leave no time to bid.
    if (r.biddingOpensDaysBefore <= r.biddingClosesDaysBefore) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['biddingOpensDaysBefore'], message: 'Os lances devem abrir antes do dia em que se encerram.' });
    }
  });

export type GroupRules = z.infer<typeof groupRulesSchema>;

// What a new group starts with: Mycon's 15-number rule, one draw, one restitution draw, two bids.
export const DEFAULT_GROUP_RULES: GroupRules = {
  bidTypes: ['livre', 'fixo', 'embutido'],
  bidLimits: { minPercent: 5, maxPercent: 80, fixedPercents: [25, 50], maxEmbeddedPercent: 30 },
  contemplations: { byDraw: 1, byExcludedDraw: 1, byBid: 2 },
  reserveFundCoversDraws: true,
  drawRule: 'loteria-15',
  tieBreak: 'nearest-drawn-higher-first',
  extraction: 'last_before_assembly',
  bidApplication: 'reduce_term',
  biddingClosesDaysBefore: 1,
  biddingOpensDaysBefore: 10,
  bidPaymentBusinessDays: 3,
  exclusionAfterUnpaid: 3,
};

// The draw rules' limits on the group's size (domain/draw.ts).
export function drawRuleFits(rule: GroupRules['drawRule'], quotaCount: number): boolean {
  return rule === 'radial' ? quotaCount <= 99_999 : quotaCount <= 1000;
}

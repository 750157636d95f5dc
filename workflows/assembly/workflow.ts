import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../../activities';
import { ASSEMBLY_RECORD_FORMAT, type LotteryCorrection, type LotteryEntry } from '../../domain/assembly-record';
import { computeAssemblyResult, type AssemblyInputs, type AssemblyResult, type BidPaymentOutcome } from '../../domain/assembly-result';
import { checkBid } from '../../domain/bid-rules';
import type { AssemblyStatus } from '../../domain/consortium-statuses';
import { entitySearchAttributes } from '../../domain/search-attributes';
import {
  assemblyViewQuery,
  assemblyWorkflowId,
  confirmBidPaymentUpdate,
  enterLotteryResultUpdate,
  placeBidUpdate,
  publishResultUpdate,
  withdrawBidUpdate,
  type AssemblyInput,
  type AssemblyOutcome,
  type AssemblyView,
  type FrozenAssembly,
  type LiveBid,
  type OpenedAssembly,
  type OpenedAssemblyFacts,
  type OpenMonthlyAssemblyInput,
  type PendingBidPayment,
} from './definitions';
import * as rules from './transitions';

// One group's assembly for one month, read top to bottom as the process: open the row and
// announce it; take bids until the deadline (one live bid per quota, refused with a pt-BR reason
// when late, from a quota not eligible, or outside the rules); freeze eligibility as of the
// extraction date (exclusions); take the Loteria Federal result (correctable, audited, until
// published); publish the result the rule module derives; wait for each winning bid's payment
// or deadline, disqualifying and recomputing; seal the record and close. Nothing reopens.

const store = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Notices go member by member through each member's conversation: a large group takes a while.
const notices = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5 },
});

const MAX_TIMER_MS = 2_147_483_647;

export async function assembly(input: AssemblyInput): Promise<AssemblyOutcome> {
  const { tenantId, groupId, month } = input;
  const options = input.options ?? {};
  const workflowId = workflowInfo().workflowId;
  const resume = input.resume;

  let facts: OpenedAssemblyFacts | null = null;
  let status: AssemblyStatus = 'bidding';
  let bids: LiveBid[] = [...(resume?.bids ?? [])];
  let lottery: LotteryEntry | null = resume?.lottery ?? null;
  let corrections: LotteryCorrection[] = [...(resume?.corrections ?? [])];
  let closesAt = resume?.biddingClosesAt ?? '';
  let published = false;
  let publishRequested = false;
  let publishedAt = '';
  let frozen: FrozenAssembly | null = null;
  let result: AssemblyResult | null = null;
  let pending: PendingBidPayment[] = [];
  const bidPayments: Record<string, BidPaymentOutcome> = {};
  const paidQueue: string[] = [];
  const settledPayments = new Set<string>();
  let recordSha256: string | null = null;
  // Bids of one quota are recorded one at a time: the database's order is the run's order.
  let bidChain: Promise<unknown> = Promise.resolve();
  let bidsInFlight = 0;
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    bidsInFlight++;
    const next = bidChain.then(work, work).finally(() => bidsInFlight--);
    bidChain = next.catch(() => undefined);
    return next;
  };

  const view = (): AssemblyView => ({
    assemblyId: facts?.assemblyId ?? resume?.assemblyId ?? '',
    groupId,
    month,
    status,
    assemblyDate: facts?.assemblyDate ?? '',
    extractionDate: facts?.extractionDate ?? '',
    biddingClosesAt: closesAt,
    ruleVersion: facts?.ruleVersion ?? 0,
    bids: [...bids],
    lottery,
    corrections: [...corrections],
    published,
    result,
    pendingPayments: pending.map((p) => ({ ...p })),
    recordSha256,
    historyLength: workflowInfo().historyLength,
  });

  const refuse = (r: rules.Refusal | null) => {
    if (r) throw ApplicationFailure.create({ type: r.type, message: r.message, nonRetryable: true });
  };
  const opened = () => facts !== null;
  const biddingRefusal = () => (facts ? rules.biddingClosedRefusal(status, Date.now(), closesAt, facts.timeZone) : null);
  const lotteryState = (): rules.LotteryState => ({ status, published: published || publishRequested, extractionDate: facts?.extractionDate ?? '', lottery });

  // --- Handlers ------------------------------------------------------------------------------
  setHandler(assemblyViewQuery, view);

  setHandler(
    placeBidUpdate,
    async (req) => {
      await condition(opened);
      refuse(biddingRefusal());
      const f = facts!;
      const bidder = await store.quotaForBid({ tenantId, groupId, quotaId: req.quotaId });
      if (!bidder) refuse(rules.QUOTA_NOT_IN_GROUP);
      const check = checkBid(f.rules, f.group.creditCents, bidder!, { type: req.type, percent: req.percent, amountCents: req.amountCents });
      refuse(rules.bidCheckRefusal(check));
      if (!check.ok) throw new Error('unreachable');
      return serially(async () => {
        // The standing was read; the deadline may have passed meanwhile.
        refuse(biddingRefusal());
        const bid: LiveBid = {
          bidId: uuid4(),
          quotaId: req.quotaId,
          quota: bidder!.number,
          type: req.type,
          percent: check.percent,
          amountCents: check.amountCents,
          placedAt: new Date().toISOString(),
          actor: req.actor,
        };
        await store.recordBid({ tenantId, assemblyId: f.assemblyId, bid });
        const r = rules.replaceBid(bids, bid);
        bids = r.bids;
        return { bidId: bid.bidId, quota: bid.quota, type: bid.type, percent: bid.percent, amountCents: bid.amountCents, replacedBidId: r.replaced?.bidId ?? null };
      });
    },
    { validator: (_req) => refuse(biddingRefusal()) },
  );

  setHandler(
    withdrawBidUpdate,
    async (req) => {
      await condition(opened);
      return serially(async () => {
        refuse(biddingRefusal());
        const r = rules.withdrawBid(bids, req.quotaId);
        if ('type' in r) throw ApplicationFailure.create({ type: r.type, message: r.message, nonRetryable: true });
        await store.withdrawBidRow({ tenantId, assemblyId: facts!.assemblyId, bidId: r.withdrawn.bidId });
        bids = r.bids;
        return { bidId: r.withdrawn.bidId };
      });
    },
    {
      validator: (req) => {
        refuse(biddingRefusal());
        const r = rules.withdrawBid(bids, req.quotaId);
        if ('type' in r) refuse(r);
      },
    },
  );

  setHandler(
    enterLotteryResultUpdate,
    async (req) => {
      await condition(opened);
      refuse(rules.lotteryRefusal(lotteryState(), req));
      const entry: LotteryEntry = { contest: req.contest ?? null, drawDate: req.drawDate, prizes: [...req.prizes], source: req.source, actor: req.actor, at: new Date().toISOString() };
      const next = rules.enterLottery(lottery, corrections, entry, req.reason);
      await store.saveLottery({ tenantId, assemblyId: facts!.assemblyId, lottery: next.lottery, corrections: next.corrections });
      lottery = next.lottery;
      corrections = next.corrections;
      if (req.publish) {
        publishRequested = true;
        await condition(() => published);
      }
      return view();
    },
    { validator: (req) => refuse(rules.lotteryRefusal(lotteryState(), req)) },
  );

  setHandler(
    publishResultUpdate,
    async (_req) => {
      refuse(rules.publishRefusal({ published: published || publishRequested, lottery, status }));
      publishRequested = true;
      await condition(() => published);
      return view();
    },
    { validator: (_req) => refuse(rules.publishRefusal({ published: published || publishRequested, lottery, status })) },
  );

  setHandler(
    confirmBidPaymentUpdate,
    async (req) => {
      refuse(rules.bidPaymentRefusal(pending.filter((p) => !paidQueue.includes(p.bidId)), req.bidId));
      paidQueue.push(req.bidId);
      await condition(() => settledPayments.has(req.bidId));
      return view();
    },
    { validator: (req) => refuse(rules.bidPaymentRefusal(pending.filter((p) => !paidQueue.includes(p.bidId)), req.bidId)) },
  );

  const historyTooLong = () =>
    workflowInfo().continueAsNewSuggested || (options.maxHistoryEvents !== undefined && workflowInfo().historyLength > options.maxHistoryEvents);

  // --- 1. Open ---------------------------------------------------------------------------------
  const windowEnd = options.biddingWindowMs !== undefined ? new Date(Date.now() + options.biddingWindowMs).toISOString() : null;
  const f = await store.openAssembly({ tenantId, groupId, month, workflowId, biddingClosesAt: resume?.biddingClosesAt ?? windowEnd });
  if (f.alreadyClosed) {
    // Nothing reopens: the sealed record stays as it is.
    status = 'closed';
    recordSha256 = f.recordSha256;
    facts = f;
    return { assemblyId: f.assemblyId, recordSha256: f.recordSha256, contemplated: [], alreadyClosed: true };
  }
  closesAt = resume?.biddingClosesAt ?? f.biddingClosesAt;
  status = f.status === 'bidding' ? 'bidding' : 'awaiting_result';
  facts = f;

  // --- 2. Announce (the first run only), while bids are already taken ------------------------
  let announcing = false;
  if (!resume && status === 'bidding') {
    announcing = true;
    void notices
      .announceAssembly({ tenantId, assemblyId: f.assemblyId, workflowId })
      .catch((err: unknown) => {
        // The members' notices are not the assembly: it goes on (the conversations show what failed).
        log.warn('assembly announcement failed', { assemblyId: f.assemblyId, error: (err as Error).message });
      })
      .finally(() => {
        announcing = false;
      });
  }

  // --- 3. Bidding ------------------------------------------------------------------------------
  // A run continues as new only once its announcement is done (a new run would not wait for it).
  const mustContinue = () => historyTooLong() && !announcing;
  while (status === 'bidding' && Date.now() < Date.parse(closesAt)) {
    if (mustContinue()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof assembly>({ ...input, resume: { assemblyId: f.assemblyId, bids, lottery, corrections, biddingClosesAt: closesAt } });
    }
    await condition(mustContinue, Math.max(1, Math.min(Date.parse(closesAt) - Date.now(), MAX_TIMER_MS)));
  }
  await condition(() => !announcing);

  // --- 4. Freeze -------------------------------------------------------------------------------
  status = 'awaiting_result';
  // Bids accepted before the deadline finish recording first.
  await condition(() => bidsInFlight === 0);
  await store.setAssemblyStatus({ tenantId, assemblyId: f.assemblyId, status });
  frozen = await store.freezeAssembly({ tenantId, assemblyId: f.assemblyId });
  if (frozen.excludedQuotas.length) {
    try {
      await notices.announceExclusions({ tenantId, assemblyId: f.assemblyId, workflowId, quotas: frozen.excludedQuotas });
    } catch (err) {
      log.warn('exclusion notices failed', { assemblyId: f.assemblyId, error: (err as Error).message });
    }
  }

  // --- 5. Lottery, then publication -----------------------------------------------------------
  await condition(() => publishRequested && lottery !== null);
  const inputsNow = (): AssemblyInputs => ({
    ...frozen!.inputs,
    bids: frozen!.bids,
    extraction: { date: lottery!.drawDate, contest: lottery!.contest, prizes: lottery!.prizes },
    bidPayments: { ...bidPayments },
  });
  publishedAt = new Date().toISOString();
  const record = async () => {
    const inputs = inputsNow();
    const r = computeAssemblyResult(inputs);
    // Complete: the status stays until the record is sealed (closeAssembly closes it).
    const next: AssemblyStatus = rules.statusAfterResult(r) === 'closed' ? status : 'confirming_bids';
    const written = await store.recordAssemblyResult({
      tenantId, assemblyId: f.assemblyId, workflowId, inputs, result: r, status: next, publishedAt,
      ...(options.bidPaymentWindowMs !== undefined ? { bidPaymentWindowMs: options.bidPaymentWindowMs } : {}),
    });
    result = r;
    pending = written.pending;
    status = next;
  };
  await record();
  published = true;

  // --- 6–7. Winning bids' payments -------------------------------------------------------------
  while (!result!.complete) {
    const earliest = Math.min(...pending.map((p) => Date.parse(p.dueAt)));
    await condition(() => paidQueue.length > 0, Math.max(1, Math.min(earliest - Date.now(), MAX_TIMER_MS)));
    const paid = paidQueue.splice(0);
    for (const id of paid) bidPayments[id] = 'paid';
    const overdue = rules.overdueBids(pending, Date.now(), new Set(paid));
    for (const id of overdue) bidPayments[id] = 'unpaid';
    // Woken with nothing settled (a timer a hair early): wait again.
    if (paid.length === 0 && overdue.length === 0) continue;
    await record();
    for (const id of paid) settledPayments.add(id);
  }

  // --- 8. Close --------------------------------------------------------------------------------
  await condition(allHandlersFinished);
  const finalResult = result!;
  const closedAt = new Date().toISOString();
  const sealed = await store.closeAssembly({
    tenantId,
    body: {
      format: ASSEMBLY_RECORD_FORMAT,
      tenantId,
      assemblyId: f.assemblyId,
      workflowId,
      group: { id: groupId, code: f.group.code, name: f.group.name },
      month,
      assemblyDate: f.assemblyDate,
      biddingClosedAt: closesAt,
      publishedAt,
      closedAt,
      lottery: lottery!,
      lotteryCorrections: corrections,
      inputs: inputsNow(),
      result: finalResult,
    },
  });
  recordSha256 = sealed.recordSha256;
  status = 'closed';
  return {
    assemblyId: f.assemblyId,
    recordSha256,
    contemplated: finalResult.contemplations.filter((c) => c.status === 'confirmed').map((c) => c.quota),
    alreadyClosed: false,
  };
}

// The group's schedule fires this: the month whose bidding is open now gets its installments
// and its assembly (started once: a second firing finds it and reports started: false).
export async function openMonthlyAssembly(input: OpenMonthlyAssemblyInput): Promise<OpenedAssembly> {
  const found = await store.prepareMonthlyAssembly({ tenantId: input.tenantId, groupId: input.groupId, ...(input.options?.asOf ? { asOf: input.options.asOf } : {}) });
  if (!found.month) return { workflowId: null, month: '', started: false };
  const workflowId = assemblyWorkflowId(input.tenantId, input.groupId, found.month);
  const args: AssemblyInput = { tenantId: input.tenantId, groupId: input.groupId, month: found.month, ...(input.options?.assembly ? { options: input.options.assembly } : {}) };
  try {
    await startChild(assembly, {
      workflowId,
      args: [args],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: entitySearchAttributes(input.tenantId, 'consortium_group', input.groupId),
    });
    return { workflowId, month: found.month, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, month: found.month, started: false };
    throw err;
  }
}

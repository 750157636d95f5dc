import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import type { Actor } from './actor';
import { computeAssemblyResult, type AssemblyInputs, type AssemblyResult } from './assembly-result';

// An assembly's audit record: its inputs (quotas and their standing, bids, the lottery numbers,
// the fund), the rule version, each step of the derivation and the result, the audited lottery
// corrections, and a SHA-256 of the whole. A third party recomputes the result from the inputs
// with domain/assembly-result.ts (`npm run verify:assembly -- record.json`). SHA-256 is
// @noble/hashes (audited, pure JS, no I/O), so this module stays pure and runs anywhere.

export const ASSEMBLY_RECORD_FORMAT = 'orquestra.assembly-record/1';

export interface LotteryEntry {
  contest: string | null;
  drawDate: string;
  prizes: string[];
  source: 'operator' | 'automation';
  actor: Actor;
  at: string;
}

export interface LotteryCorrection {
  previous: LotteryEntry;
  next: LotteryEntry;
  reason: string;
}

export interface AssemblyRecordBody {
  format: typeof ASSEMBLY_RECORD_FORMAT;
  tenantId: string;
  assemblyId: string;
  workflowId: string;
  group: { id: string; code: string; name: string };
  month: string;
  assemblyDate: string;
  biddingClosedAt: string;
  publishedAt: string;
  closedAt: string;
  lottery: LotteryEntry;
  lotteryCorrections: LotteryCorrection[];
  inputs: AssemblyInputs;
  result: AssemblyResult;
}

export interface AssemblyRecord extends AssemblyRecordBody {
  sha256: string;
}

// JSON with object keys sorted at every depth: the same record hashes the same anywhere.
// Values with a toJSON (a Date) hash as JSON.stringify writes them, so a record sealed in memory
// hashes the same once written to a file and read back.
export function canonicalJson(value: unknown): string {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON: () => unknown }).toJSON());
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function recordHash(body: AssemblyRecordBody): string {
  const { sha256: _ignored, ...rest } = body as AssemblyRecordBody & { sha256?: string };
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(rest))));
}

export function sealAssemblyRecord(body: AssemblyRecordBody): AssemblyRecord {
  return { ...body, sha256: recordHash(body) };
}

export interface RecordCheck {
  ok: boolean;
  // What did not match, in English for the operator running the script.
  problems: string[];
  recomputed: AssemblyResult | null;
  sha256: string | null;
}

// Recomputes the result from the record's inputs and the hash from the record; both must match,
// and the record's own header (group, month, lottery entry) must be what the inputs say. Each
// problem names the part that differs, so whoever runs the check knows where to look.
export function verifyAssemblyRecord(record: unknown): RecordCheck {
  const problems: string[] = [];
  if (!record || typeof record !== 'object' || Array.isArray(record)) return { ok: false, problems: ['the record is not a JSON object'], recomputed: null, sha256: null };
  const r = record as Partial<AssemblyRecord>;
  if (r.format !== ASSEMBLY_RECORD_FORMAT) problems.push(`unknown format ${JSON.stringify(r.format)}`);
  let recomputed: AssemblyResult | null = null;
  if (!r.inputs || typeof r.inputs !== 'object') problems.push('the record has no inputs to recompute from');
  else {
    problems.push(...headerProblems(r, r.inputs));
    try {
      recomputed = computeAssemblyResult(r.inputs);
    } catch (err) {
      problems.push(`the inputs cannot be recomputed: ${(err as Error).message}`);
    }
  }
  if (recomputed) problems.push(...resultProblems(r.result, recomputed));
  const sha256 = recordHash(r as AssemblyRecordBody);
  if (sha256 !== r.sha256) problems.push(`the SHA-256 does not match: recorded ${String(r.sha256)}, computed ${sha256}`);
  return { ok: problems.length === 0, problems, recomputed, sha256 };
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

function headerProblems(r: Partial<AssemblyRecord>, inputs: AssemblyInputs): string[] {
  const problems: string[] = [];
  if (r.group?.id !== inputs.groupId) problems.push(`the record's group ${JSON.stringify(r.group?.id)} is not the inputs' group ${JSON.stringify(inputs.groupId)}`);
  if (r.month !== inputs.month) problems.push(`the record's month ${JSON.stringify(r.month)} is not the inputs' month ${JSON.stringify(inputs.month)}`);
  if (!same(r.lottery?.prizes, inputs.extraction?.prizes)) {
    problems.push(`the lottery entry's prizes (${list(r.lottery?.prizes)}) are not the ones the derivation used (${list(inputs.extraction?.prizes)})`);
  }
  if ((r.lottery?.contest ?? null) !== (inputs.extraction?.contest ?? null)) {
    problems.push(`the lottery entry's contest ${JSON.stringify(r.lottery?.contest)} is not the inputs' contest ${JSON.stringify(inputs.extraction?.contest)}`);
  }
  return problems;
}

const list = (v: unknown) => (Array.isArray(v) ? v.join(' ') : 'none');
const drawText = (d: AssemblyResult['draw'] | undefined) => (d ? `quota ${d.quota ?? 'none'} from candidates ${list(d.candidates)}` : 'none');
const rankingText = (r: AssemblyResult['ranking'] | undefined) => (Array.isArray(r) && r.length ? r.map((b) => `${b.position}. quota ${b.quota} ${b.percent}%`).join(', ') : 'none');
const contemplationsText = (c: AssemblyResult['contemplations'] | undefined) => (Array.isArray(c) && c.length ? c.map((x) => `${x.kind}:${x.quota}:${x.status}`).join(' ') : 'none');

// The recorded result against the recomputed one, part by part.
function resultProblems(recorded: AssemblyResult | undefined, recomputed: AssemblyResult): string[] {
  if (same(recorded, recomputed)) return [];
  if (!recorded || typeof recorded !== 'object') return ['the record has no result to compare'];
  const problems: string[] = [];
  const differs = (k: keyof AssemblyResult) => !same(recorded[k], recomputed[k]);
  if (differs('draw')) problems.push(`the draw differs: recorded ${drawText(recorded.draw)}, recomputed ${drawText(recomputed.draw)}`);
  if (differs('referenceQuota')) problems.push(`the bids' reference quota differs: recorded ${String(recorded.referenceQuota)}, recomputed ${recomputed.referenceQuota}`);
  if (differs('excludedDraws')) problems.push(`the draws among excluded quotas differ: recorded ${(recorded.excludedDraws ?? []).map(drawText).join('; ') || 'none'}, recomputed ${recomputed.excludedDraws.map(drawText).join('; ') || 'none'}`);
  if (differs('ranking')) problems.push(`the ranking differs: recorded ${rankingText(recorded.ranking)}; recomputed ${rankingText(recomputed.ranking)}`);
  if (differs('bidOutcomes')) {
    const ids = [...new Set([...Object.keys(recorded.bidOutcomes ?? {}), ...Object.keys(recomputed.bidOutcomes)])].sort();
    const changed = ids.filter((id) => !same(recorded.bidOutcomes?.[id], recomputed.bidOutcomes[id]));
    problems.push(`the outcome of bid(s) ${changed.join(', ')} differs from the recomputed one`);
  }
  if (differs('contemplations')) problems.push(`the contemplations differ: recorded ${contemplationsText(recorded.contemplations)}, recomputed ${contemplationsText(recomputed.contemplations)}`);
  if (differs('fundAfter')) problems.push(`the fund after the assembly differs: recorded ${canonicalJson(recorded.fundAfter)}, recomputed ${canonicalJson(recomputed.fundAfter)}`);
  if (differs('complete')) problems.push(`whether the assembly is complete differs: recorded ${String(recorded.complete)}, recomputed ${recomputed.complete}`);
  if (differs('steps')) {
    const recordedSteps = Array.isArray(recorded.steps) ? recorded.steps : [];
    const at = Math.max(recordedSteps.length, recomputed.steps.length);
    const first = Array.from({ length: at }, (_, i) => i).find((i) => !same(recordedSteps[i], recomputed.steps[i]));
    problems.push(`the derivation differs from step ${(first ?? 0) + 1} (${recomputed.steps[first ?? 0]?.step ?? recordedSteps[first ?? 0]?.step ?? '?'})`);
  }
  // Anything else in the result the rule module does not produce.
  if (problems.length === 0) problems.push('the recorded result differs from the recomputed one');
  return problems;
}

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
export function canonicalJson(value: unknown): string {
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

// Recomputes the result from the record's inputs and the hash from the record; both must match.
export function verifyAssemblyRecord(record: unknown): RecordCheck {
  const problems: string[] = [];
  if (!record || typeof record !== 'object') return { ok: false, problems: ['the record is not a JSON object'], recomputed: null, sha256: null };
  const r = record as Partial<AssemblyRecord>;
  if (r.format !== ASSEMBLY_RECORD_FORMAT) problems.push(`unknown format ${JSON.stringify(r.format)}`);
  let recomputed: AssemblyResult | null = null;
  try {
    recomputed = computeAssemblyResult(r.inputs as AssemblyInputs);
  } catch (err) {
    problems.push(`the inputs cannot be recomputed: ${(err as Error).message}`);
  }
  if (recomputed && canonicalJson(recomputed) !== canonicalJson(r.result)) {
    const a = recomputed.contemplations.map((c) => `${c.kind}:${c.quota}:${c.status}`).join(' ');
    const b = (r.result?.contemplations ?? []).map((c) => `${c.kind}:${c.quota}:${c.status}`).join(' ');
    problems.push(a === b ? 'the recorded derivation differs from the recomputed one' : `the recorded contemplations (${b || 'none'}) differ from the recomputed ones (${a || 'none'})`);
  }
  const sha256 = recordHash(r as AssemblyRecordBody);
  if (sha256 !== r.sha256) problems.push(`the SHA-256 does not match: recorded ${String(r.sha256)}, computed ${sha256}`);
  return { ok: problems.length === 0, problems, recomputed, sha256 };
}

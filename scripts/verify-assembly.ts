import { readFileSync } from 'node:fs';
import { verifyAssemblyRecord, type AssemblyRecord, type RecordCheck } from '../domain/assembly-record';
import type { AssemblyResult } from '../domain/assembly-result';
import { formatBrl } from '../domain/contract-template';

// `npm run verify:assembly -- <record.json>`: recomputes an assembly's result and SHA-256 from its
// audit record alone, with the pure rule module (domain/) and nothing else — no database, no
// Temporal, no network — so a member or an auditor can run it on a copy of the record.
// Exit code 0 when the result and hash match, 1 when they do not, 2 when the file cannot be read.

const USAGE = 'usage: npm run verify:assembly -- <record.json>';

function main(argv: string[]): number {
  const args = argv.filter((a) => a !== '--');
  if (args.length !== 1 || args[0] === '-h' || args[0] === '--help') {
    console.error(USAGE);
    return 2;
  }
  const file = args[0]!;
  let record: unknown;
  try {
    record = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    console.error(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e instanceof SyntaxError ? `not JSON (${e.message})` : e.message}`);
    console.error(USAGE);
    return 2;
  }
  const check = verifyAssemblyRecord(record);
  console.log(report(file, record, check));
  return check.ok ? 0 : 1;
}

const str = (v: unknown) => (v === undefined || v === null || v === '' ? '?' : String(v));

function report(file: string, record: unknown, check: RecordCheck): string {
  const r = (record && typeof record === 'object' && !Array.isArray(record) ? record : {}) as Partial<AssemblyRecord>;
  const inputs = r.inputs;
  const lines = [`Assembly record ${file}`];
  if (inputs && typeof inputs === 'object') {
    lines.push(`  Group:          ${str(r.group?.code)} ${str(r.group?.name)} (${str(inputs.groupId)}), ${str(inputs.quotaCount)} quotas, credit ${money(inputs.creditCents)}`);
    lines.push(`  Month:          ${str(inputs.month)}, assembly on ${str(r.assemblyDate)}`);
    lines.push(`  Rules:          version ${str(inputs.ruleVersion)}, draw rule ${str(inputs.rules?.drawRule)}, tie-break ${str(inputs.rules?.tieBreak)}`);
    const corrections = Array.isArray(r.lotteryCorrections) ? r.lotteryCorrections.length : 0;
    lines.push(
      `  Lottery:        Loteria Federal contest ${str(inputs.extraction?.contest)} of ${str(inputs.extraction?.date)}: ${Array.isArray(inputs.extraction?.prizes) ? inputs.extraction.prizes.join(' ') : '?'}` +
        ` (entered by ${str(r.lottery?.source)}${corrections ? `, corrected ${corrections} time(s)` : ''})`,
    );
    lines.push(`  Fund:           common ${money(inputs.fund?.commonCents)}, reserve ${money(inputs.fund?.reserveCents)}`);
  }
  if (check.recomputed) lines.push(...resultLines(check.recomputed));
  lines.push(`  SHA-256:        ${check.sha256 ?? '?'} (recomputed)`);
  if (check.ok) lines.push('OK: the result and hash match');
  else lines.push(`FAILED: ${check.problems.length} problem(s)`, ...check.problems.map((p) => `  - ${p}`));
  return lines.join('\n');
}

function resultLines(result: AssemblyResult): string[] {
  const lines = [
    `  Drawn quota:    ${result.draw.quota ?? 'none'} (candidates ${result.draw.candidates.join(', ')}); bids' reference quota ${result.referenceQuota}`,
  ];
  for (const d of result.excludedDraws) lines.push(`  Excluded draw:  ${d.quota ?? 'none'}`);
  lines.push(`  Ranking:${result.ranking.length ? '' : '        no eligible bid'}`);
  for (const b of result.ranking) lines.push(`    ${b.position}. quota ${b.quota}, lance ${b.type} ${b.percent}% (${money(b.amountCents)}), distance ${b.distance}`);
  lines.push(`  Contemplations:${result.contemplations.length ? '' : ' none'}`);
  for (const c of result.contemplations) {
    const what = c.kind === 'draw' ? 'by draw' : c.kind === 'excluded_draw' ? 'by draw among excluded (restitution)' : `by bid ${c.bidPercent}%`;
    const amount = c.kind === 'excluded_draw' ? `restitution ${money(c.restitutionCents)}` : `credit ${money(c.creditCents)}`;
    lines.push(`    quota ${c.quota} ${what}: ${c.status.replace('_', ' ')}, ${amount}${c.fromReserveCents ? `, ${money(c.fromReserveCents)} from the reserve fund` : ''}`);
  }
  lines.push(`  Fund after:     common ${money(result.fundAfter.commonCents)}, reserve ${money(result.fundAfter.reserveCents)}${result.complete ? '' : ' (winning bids still awaiting payment)'}`);
  return lines;
}

const money = (cents: unknown) => (typeof cents === 'number' && Number.isFinite(cents) ? formatBrl(cents) : '?');

process.exitCode = main(process.argv.slice(2));

import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

// The command line of `npm run bench:webhook`.

export const USAGE = `usage: npm run bench:webhook -- --rate R --seconds S [options]
  --rate R              messages per second offered (default 100)
  --seconds S           length of the sending window (default 60)
  --guests N            distinct guests writing (default rate × 8: each writes about every 8 s)
  --batch K             messages per webhook payload (default 1)
  --chaos               SIGKILL the worker and the API (2–3 times each) and the Temporal server (once)
  --seed N              seed for the chaos schedule (default: random, printed)
  --ai fake|rules       fake OpenAI (default) or the rule-based fallback (no OpenAI key)
  --ai-latency MS       fake OpenAI latency (default 150)
  --graph-latency MS    fake Graph API latency (default 30)
  --pacing-ms MS        WHATSAPP_PER_CUSTOMER_INTERVAL_MS (default: the product's, 6000)
  --number-mps N        WHATSAPP_NUMBER_MESSAGES_PER_SECOND (default: the product's, 80)
  --drain-seconds S     after sending stops, wait at most this for replies and retries (default 60)
  --max-inflight N      bound on concurrent webhook requests (default 2000)
  --bare-seconds S      length of each ceiling measurement: bare signal-with-start, then the bare
                        Temporal pipeline (signal-with-start, a local activity, an activity) (default 10; 0 skips them)
  --bare-concurrency N  concurrent calls, and guests of the bare pipeline (default 64)
  --sqlite-pragmas P    SQLite pragmas of the dev server's file (default journal_mode=wal,synchronous=off;
                        "none" keeps the CLI's defaults, which hold it to a few dozen transactions/s on disk)
  --status-webhooks on|off  the fake Graph API posts Meta's 'sent' and 'delivered' status webhooks for
                        every accepted send, as Meta does (default on; the API dedupes retried sends with them)
  --temporal dev|postgres  the Temporal dev server on a SQLite file (default), or the full server
                        v1.29.1 on this machine's Postgres (built with go install the first time)
  --profile             run the API and the worker with --cpu-prof and print where their CPU went
  --keep                keep the work directory (logs, Temporal's SQLite file)`;


export interface Options {
  rate: number;
  seconds: number;
  guests: number;
  batch: number;
  chaos: boolean;
  seed: number;
  ai: 'fake' | 'rules';
  aiLatency: number;
  graphLatency: number;
  pacingMs?: number;
  numberMps?: number;
  drainSeconds: number;
  maxInflight: number;
  bareSeconds: number;
  bareConcurrency: number;
  sqlitePragmas: string[];
  statusWebhooks: boolean;
  temporal: 'dev' | 'postgres';
  profile: boolean;
  keep: boolean;
}

export function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '60' },
      guests: { type: 'string' },
      batch: { type: 'string', default: '1' },
      chaos: { type: 'boolean', default: false },
      seed: { type: 'string' },
      ai: { type: 'string', default: 'fake' },
      'ai-latency': { type: 'string', default: '150' },
      'graph-latency': { type: 'string', default: '30' },
      'pacing-ms': { type: 'string' },
      'number-mps': { type: 'string' },
      'drain-seconds': { type: 'string', default: '60' },
      'max-inflight': { type: 'string', default: '2000' },
      'bare-seconds': { type: 'string', default: '10' },
      'bare-concurrency': { type: 'string', default: '64' },
      'sqlite-pragmas': { type: 'string', default: 'journal_mode=wal,synchronous=off' },
      'status-webhooks': { type: 'string', default: 'on' },
      temporal: { type: 'string', default: 'dev' },
      profile: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min} (got ${v})`);
    return n;
  };
  const onOff = (name: string, v: string | undefined): boolean => {
    if (v === 'on') return true;
    if (v === 'off') return false;
    throw new UsageError(`--${name} must be on or off (got ${v})`);
  };
  const rate = num('rate', values.rate, 0.1);
  const temporal = values.temporal;
  if (temporal !== 'dev' && temporal !== 'postgres') throw new UsageError(`--temporal must be dev or postgres (got ${temporal})`);
  const ai = values.ai;
  if (ai !== 'fake' && ai !== 'rules') throw new UsageError(`--ai must be fake or rules (got ${ai})`);
  return {
    rate,
    seconds: num('seconds', values.seconds, 1),
    guests: values.guests === undefined ? Math.max(1, Math.round(rate * 8)) : Math.floor(num('guests', values.guests, 1)),
    batch: Math.floor(num('batch', values.batch, 1)),
    chaos: values.chaos ?? false,
    seed: values.seed === undefined ? randomBytes(4).readUInt32BE(0) : Math.floor(num('seed', values.seed, 0)),
    ai,
    aiLatency: num('ai-latency', values['ai-latency'], 0),
    graphLatency: num('graph-latency', values['graph-latency'], 0),
    pacingMs: values['pacing-ms'] === undefined ? undefined : num('pacing-ms', values['pacing-ms'], 0),
    numberMps: values['number-mps'] === undefined ? undefined : num('number-mps', values['number-mps'], 1),
    drainSeconds: num('drain-seconds', values['drain-seconds'], 0),
    maxInflight: Math.floor(num('max-inflight', values['max-inflight'], 1)),
    bareSeconds: num('bare-seconds', values['bare-seconds'], 0),
    bareConcurrency: Math.floor(num('bare-concurrency', values['bare-concurrency'], 1)),
    sqlitePragmas: parsePragmas(values['sqlite-pragmas'] ?? 'none'),
    statusWebhooks: onOff('status-webhooks', values['status-webhooks']),
    temporal,
    profile: values.profile ?? false,
    keep: values.keep ?? false,
  };
}

export class UsageError extends Error {}

function parsePragmas(v: string): string[] {
  if (v === 'none' || v === '') return [];
  const list = v.split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of list) if (!/^[a-z_]+=[A-Za-z0-9_]+$/.test(p)) throw new UsageError(`--sqlite-pragmas: "${p}" is not PRAGMA=VALUE`);
  return list;
}

// startDevServer has no way to pass extra flags; a one-line wrapper that execs the real binary
// (same pid, same process group) adds the SQLite pragmas. With the CLI's defaults (rollback
// journal, synchronous=FULL) a file-backed dev server commits a few dozen transactions a second
// on this kind of disk and the benchmark would measure nothing but fsync. WAL with
// synchronous=OFF survives a SIGKILL of the server (the OS still has the pages), which is all the

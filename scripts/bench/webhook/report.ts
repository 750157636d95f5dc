import type { FakeGraphApi } from '../../sandbox/graph-api';
import type { Probes } from './baseline';
import { timelineEntries } from './chaos';
import type { CpuSampler, cpuMsPerMessage } from './cpu';
import type { barePipeline } from './bare-pipeline';
import type { LoadGenerator, Message } from './load';
import type { Options } from './options';
import type { ReplyBook } from './replies';
import { ms, round1, roundInt, summarize, type Summary } from './stats';
import { histogramQuantile, labelValues, promHistogram, type summarizeLog, type summarizeProfiles } from './telemetry';

// Results: the figures computed from what the run recorded, the printed report, and its last
// line, one JSON object.

export interface ResultInput {
  o: Options;
  messages: Message[];
  load: LoadGenerator;
  replies: ReplyBook;
  sendStart: number;
  sendEnd: number;
  drainEnd: number;
  bare: { perSec: number } | null;
  aiAnswered: Map<number, number>;
  aiCalls: number;
  graph: FakeGraphApi;
}

export type Result = ReturnType<typeof computeResult>;

export function computeResult(r: ResultInput) {
  const { o, messages } = r;
  const offered = messages.length;
  const ackedMsgs = messages.filter((m) => m.delivery.ackAt !== undefined);
  const acked = ackedMsgs.length;
  const ack = summarize(ackedMsgs.map((m) => (m.delivery.ackAt as number) - (m.delivery.firstAttemptAt as number)));
  const firstAttemptOk = summarize(ackedMsgs.filter((m) => m.delivery.attempts === 1).map((m) => (m.delivery.ackAt as number) - (m.delivery.firstAttemptAt as number)));
  const schedulingLag = summarize(messages.filter((m) => m.delivery.firstAttemptAt !== undefined).map((m) => (m.delivery.firstAttemptAt as number) - m.delivery.scheduledAt));
  const replied = ackedMsgs.filter((m) => m.repliedAt !== undefined);
  let replyBeforeAck = 0;
  const e2e = summarize(
    replied.map((m) => {
      const d = (m.repliedAt as number) - (m.delivery.ackAt as number);
      if (d < 0) replyBeforeAck++;
      return Math.max(0, d);
    }),
  );
  const lost = acked - replied.length;
  const duplicated = o.ai === 'fake' ? messages.filter((m) => m.replies > 1).length : r.replies.duplicateSends();
  const duplicateSends = r.replies.duplicateSends();

  // sustainedPerSec (the JSON figure): messages that got their reply, over the time from the
  // first message sent to the last reply received — the rate the whole pipeline actually
  // carried, tail included. ackedPerSec is the webhook side alone (acked / sending window), and
  // repliesInWindowPerSec the replies that arrived while the load was still on, over the window.
  const lastReply = replied.reduce((t, m) => Math.max(t, m.repliedAt as number), 0);
  const sustainedPerSec = replied.length && lastReply > r.sendStart ? replied.length / ((lastReply - r.sendStart) / 1000) : 0;
  const windowSec = (r.sendEnd - r.sendStart) / 1000;
  const ackedPerSec = acked / windowSec;
  const repliedInWindowPerSec = replied.filter((m) => (m.repliedAt as number) <= r.sendEnd).length / windowSec;

  // Where the end-to-end time goes (--ai fake): ack → prompt at the model, the model, answer → send.
  let stages: { toModel: Summary; model: number; toSend: Summary } | null = null;
  if (o.ai === 'fake') {
    const toModel: number[] = [];
    const toSend: number[] = [];
    for (const m of replied) {
      const answered = r.aiAnswered.get(m.seq);
      if (answered === undefined) continue;
      toModel.push(Math.max(0, answered - o.aiLatency - (m.delivery.ackAt as number)));
      toSend.push((m.repliedAt as number) - answered);
    }
    stages = { toModel: summarize(toModel), model: o.aiLatency, toSend: summarize(toSend) };
  }

  return {
    offered,
    acked,
    unacked: offered - acked,
    ack,
    firstAttemptOk,
    schedulingLag,
    e2e,
    replyBeforeAck,
    replied: replied.length,
    lost,
    duplicated,
    duplicateSends,
    sustainedPerSec,
    ackedPerSec,
    repliedInWindowPerSec,
    windowSec,
    drainSec: (r.drainEnd - r.sendEnd) / 1000,
    lastReplyAfterWindowSec: lastReply ? (lastReply - r.sendEnd) / 1000 : Number.NaN,
    stages,
    aiCalls: r.aiCalls,
    sends: r.replies.benchSends,
    minGapMs: r.replies.minGapMs,
    pacedSends: r.replies.pacedSends(o.pacingMs ?? 6000),
    graphRequests: r.graph.requests.length,
  };
}

export function printReport(p: {
  o: Options;
  code: { git: string; fingerprint: string; changedDuringRun: boolean; fingerprintAtEnd: string };
  result: Result;
  load: LoadGenerator;
  bare: { perSec: number; ok: number; failed: number; seconds: number } | null;
  pipeline: Awaited<ReturnType<typeof barePipeline>> | null;
  probes: ReturnType<Probes['result']>;
  cpu: ReturnType<CpuSampler['result']>;
  cpuPerMessage: ReturnType<typeof cpuMsPerMessage>;
  restarts: Record<string, { chaosKills: number; unexpectedExits: number; starts: number }>;
  workerMetrics: string;
  apiMetrics: string;
  dbCounts: Record<string, unknown>;
  logs: Record<string, ReturnType<typeof summarizeLog>>;
  profiles: Record<string, ReturnType<typeof summarizeProfiles>> | null;
  diagnostics: string[];
  workDir: string;
  kept: boolean;
  env: NodeJS.ProcessEnv;
}) {
  const { o, result: r } = p;
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  const sum = (s: Summary) => `p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  p99 ${ms(s.p99)}  max ${ms(s.max)}  (n=${s.count})`;

  line();
  line(`=== Orquestra webhook benchmark: ${o.rate} msg/s for ${o.seconds} s, ${o.guests} guests, ${o.batch}/payload, ${o.ai === 'fake' ? `fake OpenAI (${o.aiLatency} ms)` : 'rule-based triage (no OpenAI key)'}, fake Graph API (${o.graphLatency} ms)${o.chaos ? `, CHAOS seed ${o.seed}` : ''}`);
  line(`    code ${p.code.git}, source fingerprint ${p.code.fingerprint}`);
  if (p.code.changedDuringRun) {
    line(`    WARNING: the product source changed during the run (${p.code.fingerprint} → ${p.code.fingerprintAtEnd}); a process started or restarted after the change ran different code`);
  }
  line(`    pacing per guest ${p.env.WHATSAPP_PER_CUSTOMER_INTERVAL_MS ?? '6000 (default)'} ms, number throughput ${p.env.WHATSAPP_NUMBER_MESSAGES_PER_SECOND ?? '80 (default)'} msg/s, status webhooks ${o.statusWebhooks ? 'on (sent, delivered)' : 'off'}`);
  line(`    Temporal: ${o.temporal === 'postgres' ? 'full server 1.29.1 on Postgres (4 history shards)' : `dev server on a SQLite file (${o.sqlitePragmas.join(' ') || 'CLI defaults'})`}`);
  line();
  line(`messages offered            ${r.offered}`);
  line(`messages acknowledged       ${r.acked}${r.unacked ? `   (${r.unacked} never acknowledged before the drain deadline)` : ''}`);
  line(`ack latency (first attempt start → 200)   ${sum(r.ack)}`);
  line(`  acked on the first attempt              ${sum(r.firstAttemptOk)}`);
  line(`  sender lag (due → first attempt)        p99 ${ms(r.schedulingLag.p99)}  max ${ms(r.schedulingLag.max)}  (max in flight ${p.load.maxInflightSeen})`);
  const non200 = [...p.load.non200].map(([k, v]) => `${k}×${v}`).join('  ');
  line(`non-200 answers             ${non200 || 'none'}   (retries ${p.load.retries})`);
  line(`end-to-end (ack → reply at Graph API)     ${sum(r.e2e)}${r.replyBeforeAck ? `   (${r.replyBeforeAck} replies came before their ack, counted as 0)` : ''}`);
  if (r.stages) {
    line(`  ack → prompt reaches the model          ${sum(r.stages.toModel)}`);
    line(`  model (fake latency)                    ${r.stages.model} ms`);
    line(`  model answer → reply at Graph API       ${sum(r.stages.toSend)}`);
  }
  line(`sustained                   ${r.sustainedPerSec.toFixed(1)} msg/s replied end to end (replied ÷ first send → last reply)`);
  line(`                            ${r.ackedPerSec.toFixed(1)} msg/s acknowledged over the ${r.windowSec.toFixed(1)} s window; ${r.repliedInWindowPerSec.toFixed(1)} msg/s replied within the window`);
  line(`                            last reply ${Number.isFinite(r.lastReplyAfterWindowSec) ? `${r.lastReplyAfterWindowSec.toFixed(1)} s` : 'n/a'} after the window; drain took ${r.drainSec.toFixed(1)} s`);
  const stored = typeof p.dbCounts.inboundBenchMessages === 'number' ? p.dbCounts.inboundBenchMessages : undefined;
  const notStored = stored === undefined ? '' : `; ${Math.max(0, r.acked - stored)} acknowledged messages not yet stored by their workflow`;
  line(`messages lost               ${r.lost}   (acknowledged, no reply by the drain deadline${o.ai === 'rules' ? '; per guest, approximate' : ''}${notStored})`);
  line(`replies duplicated          ${r.duplicated}   (${o.ai === 'fake' ? 'message tokens replied to more than once' : 'same as duplicate sends in rules mode'}); duplicate sends of one outbound message: ${r.duplicateSends}`);
  line(`sends to guests             ${r.sends} for ${r.replied} replied messages${o.ai === 'fake' ? `, ${r.aiCalls} model calls` : ''}; min gap between two sends to one guest ${ms(r.minGapMs)}; ${r.pacedSends} sends within pacing + 1 s of the previous one (held by pacing)`);
  if (p.bare) {
    line(`bare signal-with-start      ${p.bare.perSec.toFixed(1)}/s (${p.bare.ok} ok, ${p.bare.failed} failed, ${p.bare.seconds.toFixed(1)} s, concurrency ${o.bareConcurrency}, no worker)`);
    line(`ratio sustained / bare      ${(r.sustainedPerSec / p.bare.perSec).toFixed(3)}   (acked / bare ${(r.ackedPerSec / p.bare.perSec).toFixed(3)})`);
  }
  if (p.pipeline) {
    const q = p.pipeline;
    line(`bare Temporal pipeline      ${q.perSec.toFixed(1)} msg/s (${q.replied} replied, ${q.timedOut} timed out, ${q.failed} failed; ${q.seconds.toFixed(1)} s, ${q.concurrency} guests one message at a time; per message ${sum(q.latency)})`);
    line(`                            signal-with-start, a workflow task with one local activity, one activity; no database, no AI, no codec`);
    line(`ratio sustained / pipeline  ${(r.sustainedPerSec / q.perSec).toFixed(3)}`);
  }
  line(`probes during the window    Temporal signal-with-start ${sum(p.probes.temporal)}${p.probes.temporalFailed ? `, ${p.probes.temporalFailed} failed` : ''}`);
  line(`                            Postgres SELECT 1            ${sum(p.probes.postgres)}${p.probes.postgresFailed ? `, ${p.probes.postgresFailed} failed` : ''}`);
  line(`restarts                    ${Object.entries(p.restarts).map(([k, v]) => `${k}: ${v.chaosKills} chaos kill(s), ${v.unexpectedExits} unexpected exit(s)`).join('; ')}`);
  line(`database                    ${JSON.stringify(p.dbCounts)}`);

  if (p.cpu) {
    const parts = Object.entries(p.cpu.coresByComponent)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${(100 * v).toFixed(0)}%`);
    line();
    line(`CPU during the sending window (% of one core; ${p.cpu.cores} cores, host busy ${p.cpu.hostBusyPercent === null ? 'n/a' : `${p.cpu.hostBusyPercent.toFixed(0)}%`}): ${parts.join(', ')}`);
  }
  if (p.cpuPerMessage) {
    const parts = Object.entries(p.cpuPerMessage.byProcess)
      .filter(([k]) => k !== 'bench')
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v.toFixed(1)}`);
    line(`CPU-ms per replied message (first send → last reply): ${p.cpuPerMessage.total.toFixed(1)} = ${parts.join(' + ')}   (bench and fakes ${(p.cpuPerMessage.byProcess.bench ?? 0).toFixed(1)}, not counted)`);
  }

  // Server-side views of the same time.
  const webhook = promHistogram(p.apiMetrics, 'orquestra_http_request_duration_seconds', { route: '/webhooks/whatsapp', method: 'POST' });
  if (webhook && webhook.count) {
    line(`API-side webhook time (last API process, bucket bounds): p50 ≤ ${histogramQuantile(webhook, 50) * 1000} ms, p99 ≤ ${histogramQuantile(webhook, 99) * 1000} ms, mean ${((1000 * webhook.sum) / webhook.count).toFixed(1)} ms (n=${webhook.count})`);
  }
  const wm = p.workerMetrics;
  if (wm) {
    line('Worker (last worker process, Prometheus buckets, ms):');
    const show = (label: string, name: string, match: Record<string, string> = {}) => {
      const h = promHistogram(wm, name, match);
      if (!h || !h.count) return;
      line(`  ${label.padEnd(52)} p50 ≤ ${histogramQuantile(h, 50)}  p99 ≤ ${histogramQuantile(h, 99)}  mean ${(h.sum / h.count).toFixed(1)}  (n=${h.count})`);
    };
    show('workflow task schedule-to-start', 'temporal_workflow_task_schedule_to_start_latency');
    show('workflow task execution', 'temporal_workflow_task_execution_latency');
    show('workflow task replay', 'temporal_workflow_task_replay_latency');
    show('activity schedule-to-start', 'temporal_activity_schedule_to_start_latency');
    for (const type of labelValues(wm, 'temporal_activity_execution_latency', 'activity_type')) {
      show(`activity ${type} execution`, 'temporal_activity_execution_latency', { activity_type: type });
    }
    for (const svc of labelValues(wm, 'temporal_request_latency', 'operation').filter((op) => /Respond|Poll/.test(op))) {
      show(`server call ${svc}`, 'temporal_request_latency', { operation: svc });
    }
  }

  for (const [name, groups] of Object.entries(p.logs)) {
    const interesting = groups.filter((g) => g.level !== 'info' && g.level !== 'debug' && g.level !== 'trace');
    if (!interesting.length) continue;
    line(`${name} log (${interesting.reduce((n, g) => n + g.count, 0)} warn/error/raw lines):`);
    for (const g of interesting.slice(0, 8)) line(`  ${String(g.count).padStart(6)} × ${g.level} ${g.msg.slice(0, 120)}${g.example && g.example !== '{}' ? `  e.g. ${g.example.slice(0, 220)}` : ''}`);
  }
  for (const [name, threads] of Object.entries(p.profiles ?? {})) {
    if (!threads) {
      line(`${name} CPU profile: none written (the process did not exit cleanly)`);
      continue;
    }
    line(`${name} CPU profiles (thread pid.tid, 0 = main; busy = not idle):`);
    for (const t of threads.filter((x) => x.busyMs >= 500).slice(0, 4)) {
      line(`  thread ${t.thread}: busy ${(t.busyMs / 1000).toFixed(1)} s of ${(t.wallMs / 1000).toFixed(1)} s (${((100 * t.busyMs) / Math.max(1, t.wallMs)).toFixed(0)}%); by package: ${t.byPackage.slice(0, 8).map((x) => `${x.name} ${x.percent.toFixed(0)}%`).join(', ')}`);
      for (const f of t.byFunction.slice(0, 8)) line(`    ${f.percent.toFixed(1).padStart(5)}%  ${f.name}`);
    }
  }
  if (p.diagnostics.length) {
    line('Evidence (unreplied messages and duplicate sends; times relative to the start of the sending window):');
    for (const d of p.diagnostics) line(`  ${d}`);
  }
  if (timelineEntries.length) {
    line('Timeline:');
    for (const e of timelineEntries) line(`  ${e}`);
  }
  if (p.kept) line(`logs and Temporal's SQLite file kept in ${p.workDir}`);
  line();
  console.log(out.join('\n'));
}

// The run in one JSON object: the last line printed.
export function summaryJson(a: {
  o: Options;
  result: Result;
  load: LoadGenerator;
  bare: { perSec: number } | null;
  pipeline: { perSec: number } | null;
  restarts: Record<string, { chaosKills: number; unexpectedExits: number; starts: number }>;
  code: { git: string; fingerprint: string; changedDuringRun: boolean; fingerprintAtEnd: string };
  cpuPerMessage: ReturnType<typeof cpuMsPerMessage>;
}) {
  const { o, result, load, bare, pipeline, restarts, code, cpuPerMessage } = a;
  return {
    offered: result.offered,
    acked: result.acked,
    unacked: result.unacked,
    ackP50Ms: roundInt(result.ack.p50),
    ackP95Ms: roundInt(result.ack.p95),
    ackP99Ms: roundInt(result.ack.p99),
    ackMaxMs: roundInt(result.ack.max),
    e2eP50Ms: roundInt(result.e2e.p50),
    e2eP95Ms: roundInt(result.e2e.p95),
    e2eP99Ms: roundInt(result.e2e.p99),
    e2eMaxMs: roundInt(result.e2e.max),
    sustainedPerSec: round1(result.sustainedPerSec),
    ackedPerSec: round1(result.ackedPerSec),
    repliesInWindowPerSec: round1(result.repliedInWindowPerSec),
    lost: result.lost,
    duplicated: result.duplicated,
    duplicateSends: result.duplicateSends,
    bareSignalWithStartPerSec: bare ? round1(bare.perSec) : null,
    ratioToBare: bare && bare.perSec > 0 ? Math.round((1000 * result.sustainedPerSec) / bare.perSec) / 1000 : null,
    barePipelinePerSec: pipeline ? round1(pipeline.perSec) : null,
    ratioToPipeline: pipeline && pipeline.perSec > 0 ? Math.round((1000 * result.sustainedPerSec) / pipeline.perSec) / 1000 : null,
    non200: Object.fromEntries(load.non200),
    retries: load.retries,
    cpuMsPerMessage: cpuPerMessage?.total ?? null,
    cpuMsPerMessageByProcess: cpuPerMessage?.byProcess ?? null,
    restarts,
    code,
    chaos: o.chaos,
    seed: o.chaos ? o.seed : undefined,
    rate: o.rate,
    seconds: o.seconds,
    guests: o.guests,
    batch: o.batch,
    ai: o.ai,
    temporal: o.temporal,
    aiLatencyMs: o.aiLatency,
    graphLatencyMs: o.graphLatency,
  };
}

import { sha256Signature } from '../../../infra/hmac-signature';
import { metaEnvelope, textMessage } from '../../../test/fakes/meta-payloads';
import type { Options } from './options';
import { supervisor } from './processes';
import { sleep } from './stats';

// The load: guests' messages, each tokenised so its reply can be found, sent as Meta would.

const ATTEMPT_TIMEOUT_MS = 10_000;
const RETRY_FIRST_MS = 200;
const RETRY_CAP_MS = 5_000;

export interface Message {
  seq: number;
  guest: string;
  delivery: Delivery;
  repliedAt?: number; // first reply containing this message (exact with --ai fake; per guest with rules)
  replies: number; // replies containing this message's token (--ai fake)
  aiAnsweredAt?: number; // the fake OpenAI answered a prompt holding this message (--ai fake)
}

export interface Delivery {
  messages: Message[];
  raw: string;
  signature: string;
  scheduledAt: number;
  firstAttemptAt?: number;
  ackAt?: number;
  attempts: number;
  gaveUp: boolean;
  done: boolean;
}

export const TOKEN = /\bmsg-(\d+)\b/g;
export const WARM_TOKEN = /\bwarm-(\d+)\b/g;
export const guestPhone = (i: number) => `5511${900000000 + i}`;
export const warmPhone = (i: number) => `5521${900000000 + i}`;
// A question the rule-based triage answers from the FAQ entry this script adds (--ai rules) and
// that never reads as a request for a person or a complaint; the token identifies the message.
export const guestText = (token: string) => `Qual o horário do benchmark? ${token}`;

// Open-loop sender: message k is due at start + k / rate whatever happened to the earlier ones;
// each payload is retried like Meta does (any non-200: exponential backoff from 200 ms, capped
// at 5 s, ±20 % jitter so a restarted API is not hit by every retry in the same millisecond)
// until acknowledged or the drain deadline.

export class LoadGenerator {
  readonly deliveries: Delivery[] = [];
  readonly non200 = new Map<string, number>();
  retries = 0;
  inflight = 0;
  maxInflightSeen = 0;
  private readonly backlog: Delivery[] = [];
  private seq = 0;
  private drainDeadline = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly o: Options,
    private readonly url: string,
    private readonly appSecret: string,
    private readonly number: { phoneNumberId: string; wabaId: string },
    private readonly messages: Message[],
  ) {}

  async run(start: number, drainDeadline: number): Promise<void> {
    this.drainDeadline = drainDeadline;
    const payloadsPerSec = this.o.rate / this.o.batch;
    const total = Math.round(this.o.rate * this.o.seconds / this.o.batch);
    const interval = 1000 / payloadsPerSec;
    let k = 0;
    while (k < total && !supervisor.stopping) {
      const now = Date.now();
      while (k < total && start + k * interval <= now) this.launch(start + k++ * interval);
      if (k < total) await sleep(Math.max(0, Math.min(20, start + k * interval - Date.now())));
    }
  }

  allSettled(): boolean {
    return this.backlog.length === 0 && this.pending.size === 0;
  }

  offered(): number {
    return this.seq;
  }

  progressLine(): string {
    const acked = this.deliveries.reduce((n, d) => n + (d.ackAt !== undefined ? d.messages.length : 0), 0);
    const non200 = [...this.non200].map(([k, v]) => `${k}:${v}`).join(',') || '0';
    return `offered=${this.seq} acked=${acked} inflight=${this.inflight} backlog=${this.backlog.length} non200=${non200}`;
  }

  private launch(scheduledAt: number): void {
    const batch: Message[] = [];
    const delivery: Delivery = { messages: batch, raw: '', signature: '', scheduledAt, attempts: 0, gaveUp: false, done: false };
    for (let j = 0; j < this.o.batch; j++) {
      const seq = this.seq++;
      const m: Message = { seq, guest: guestPhone(seq % this.o.guests), delivery, replies: 0 };
      batch.push(m);
      this.messages[seq] = m;
    }
    delivery.raw = JSON.stringify(
      metaEnvelope([
        {
          wabaId: this.number.wabaId,
          phoneNumberId: this.number.phoneNumberId,
          messages: batch.map((m) => textMessage({ from: m.guest, body: guestText(`msg-${m.seq}`) })),
        },
      ]),
    );
    delivery.signature = sha256Signature(delivery.raw, this.appSecret);
    this.deliveries.push(delivery);
    if (this.inflight < this.o.maxInflight) this.startDelivery(delivery);
    else this.backlog.push(delivery);
  }

  private startDelivery(d: Delivery): void {
    const p = this.deliver(d).finally(() => {
      this.pending.delete(p);
      const next = this.backlog.shift();
      if (next) this.startDelivery(next);
    });
    this.pending.add(p);
  }

  private async deliver(d: Delivery): Promise<void> {
    this.inflight++;
    this.maxInflightSeen = Math.max(this.maxInflightSeen, this.inflight);
    let backoff = RETRY_FIRST_MS;
    try {
      for (;;) {
        d.firstAttemptAt ??= Date.now();
        d.attempts++;
        let outcome: string;
        try {
          const res = await fetch(this.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-hub-signature-256': d.signature, 'user-agent': 'facebookexternalua' },
            body: d.raw,
            signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
          });
          await res.arrayBuffer().catch(() => undefined);
          if (res.status === 200) {
            d.ackAt = Date.now();
            return;
          }
          outcome = String(res.status);
        } catch (err) {
          outcome = failureKind(err);
        }
        this.non200.set(outcome, (this.non200.get(outcome) ?? 0) + 1);
        const wait = backoff * (0.8 + 0.4 * Math.random());
        if (supervisor.stopping || Date.now() + wait > this.drainDeadline) {
          d.gaveUp = true;
          return;
        }
        this.retries++;
        await sleep(wait);
        backoff = Math.min(RETRY_CAP_MS, backoff * 2);
      }
    } finally {
      this.inflight--;
      d.done = true;
    }
  }
}

function failureKind(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError') return 'timeout';
  const code = e?.cause?.code ?? e?.cause?.name;
  return `net:${code ?? e?.name ?? 'error'}`;
}

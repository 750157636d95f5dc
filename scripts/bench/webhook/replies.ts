import type { FakeGraphApi, SentMessage } from '../../sandbox/graph-api';
import { TOKEN, WARM_TOKEN, type Message } from './load';

// Replies seen by the fake Graph API, matched to messages.
//
// --ai fake: each guest message carries `msg-<seq>`, the fake model echoes the guest's latest
// text, and the workflow merges held replies with a blank line, so every token found in any sent
// text is one reply to that message. duplicated = tokens seen in more than one sent message.
// --ai rules: the rule-based answer cannot echo a token, so a message counts as answered by the
// first reply to its guest after it was first offered (an approximation), and duplicates are
// only the exact kind below.
// In both modes duplicateSends counts the same outbound message (biz_opaque_callback_data, the
// product's message id) accepted by the Graph API more than once.

export class ReplyBook {
  private cursor = 0;
  private readonly warmToken = new Set<number>();
  private readonly warmGuests = new Set<string>();
  private readonly callbackCounts = new Map<string, number>();
  readonly callbackSends = new Map<string, { to: string; at: number }[]>();
  readonly sendsByGuest = new Map<string, number[]>();
  sends = 0;
  benchSends = 0;
  lastReplyAt = 0;
  minGapMs = Number.POSITIVE_INFINITY;
  private replied = 0;

  constructor(
    private readonly graph: FakeGraphApi,
    private readonly messages: Message[],
    private readonly mode: 'fake' | 'rules',
  ) {}

  poll(): void {
    const sent = this.graph.sent;
    while (this.cursor < sent.length) this.take(sent[this.cursor++] as SentMessage);
  }

  private take(s: SentMessage): void {
    this.sends++;
    if (s.bizOpaqueCallbackData) {
      this.callbackCounts.set(s.bizOpaqueCallbackData, (this.callbackCounts.get(s.bizOpaqueCallbackData) ?? 0) + 1);
      const list = this.callbackSends.get(s.bizOpaqueCallbackData) ?? [];
      list.push({ to: s.to, at: s.receivedAt });
      this.callbackSends.set(s.bizOpaqueCallbackData, list);
    }
    const text = s.text ?? '';
    for (const m of text.matchAll(WARM_TOKEN)) this.warmToken.add(Number(m[1]));
    this.warmGuests.add(s.to);
    if (!s.to.startsWith('5511')) return;
    this.benchSends++;
    const times = this.sendsByGuest.get(s.to) ?? [];
    if (times.length) this.minGapMs = Math.min(this.minGapMs, s.receivedAt - (times[times.length - 1] as number));
    times.push(s.receivedAt);
    this.sendsByGuest.set(s.to, times);
    this.lastReplyAt = Math.max(this.lastReplyAt, s.receivedAt);
    if (this.mode !== 'fake') return;
    for (const m of text.matchAll(TOKEN)) {
      const msg = this.messages[Number(m[1])];
      if (!msg) continue;
      msg.replies++;
      if (msg.repliedAt === undefined) {
        msg.repliedAt = s.receivedAt;
        this.replied++;
      }
    }
  }

  warmReplied(i: number, phone: string): boolean {
    return this.mode === 'fake' ? this.warmToken.has(i) : this.warmGuests.has(phone);
  }

  repliedCount(): number {
    if (this.mode === 'rules') this.finish();
    return this.replied;
  }

  // --ai rules: assign each guest's replies to its messages in order (see above).
  finish(): void {
    if (this.mode !== 'rules') return;
    const byGuest = new Map<string, Message[]>();
    for (const m of this.messages) if (m) byGuest.set(m.guest, [...(byGuest.get(m.guest) ?? []), m]);
    this.replied = 0;
    for (const [guest, list] of byGuest) {
      const times = this.sendsByGuest.get(guest) ?? [];
      let r = 0;
      for (const m of list) {
        m.repliedAt = undefined;
        m.replies = 0;
        const offeredAt = m.delivery.firstAttemptAt;
        if (offeredAt === undefined) continue;
        while (r < times.length && (times[r] as number) < offeredAt) r++;
        if (r < times.length) {
          m.repliedAt = times[r];
          m.replies = 1;
          this.replied++;
        }
      }
    }
  }

  // Sends that followed the previous one to the same guest by less than the pacing interval plus
  // a second: most of them were held back by the workflow's per-guest pacing.
  pacedSends(pacingMs: number): number {
    let n = 0;
    for (const times of this.sendsByGuest.values()) for (let i = 1; i < times.length; i++) if ((times[i] as number) - (times[i - 1] as number) < pacingMs + 1_000) n++;
    return n;
  }

  duplicateSends(): number {
    let n = 0;
    for (const c of this.callbackCounts.values()) if (c > 1) n += c - 1;
    return n;
  }
}

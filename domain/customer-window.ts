// WhatsApp's customer-service window: free-form messages (text, media, interactive) may be sent
// only while it is open; outside it, only approved templates. Each inbound message from the
// customer opens or refreshes it for 24 h; outbound messages never do.
//
// A conversation started from a click-to-WhatsApp ad (the inbound carries `referral`) gets a
// 72 h free entry-point window instead. Meta grants it only when the business answers within
// the first 24 h, which callers answering promptly satisfy; it is not re-checked here.

export const WINDOW_MS = 24 * 60 * 60 * 1000;
export const REFERRAL_WINDOW_MS = 72 * 60 * 60 * 1000;

export interface WindowOptions {
  // When the inbound message that carried a click-to-WhatsApp `referral` arrived.
  lastReferralAtMs?: number | null;
}

// The instant (ms) the window closes, or null when the customer never wrote.
export function windowClosesAt(lastInboundAtMs: number | null, opts: WindowOptions = {}): number | null {
  const closes: number[] = [];
  if (lastInboundAtMs != null) closes.push(lastInboundAtMs + WINDOW_MS);
  if (opts.lastReferralAtMs != null) closes.push(opts.lastReferralAtMs + REFERRAL_WINDOW_MS);
  return closes.length > 0 ? Math.max(...closes) : null;
}

export function isWindowOpen(lastInboundAtMs: number | null, nowMs: number, opts: WindowOptions = {}): boolean {
  const closesAt = windowClosesAt(lastInboundAtMs, opts);
  return closesAt != null && nowMs < closesAt;
}

// Meta's pacing rules for sending to one customer, as pure arithmetic for the conversation
// workflow: about one message every 6 s per customer on average (131056 otherwise), text bodies
// of at most 4096 characters, and 4^n s back-off after a pair-rate-limit error.

export const PER_CUSTOMER_INTERVAL_MS = 6000;
export const MAX_TEXT_LENGTH = 4096;
export const MAX_BACKOFF_SECONDS = 15 * 60;

// Bursts would borrow from the future and be punished later; keeping an even spacing never does.
export function nextSendAt(lastOutboundAtMs: number | null, nowMs: number, intervalMs = PER_CUSTOMER_INTERVAL_MS): number {
  return lastOutboundAtMs == null ? nowMs : Math.max(nowMs, lastOutboundAtMs + intervalMs);
}

const SEPARATOR = '\n\n';

// Cuts a text into pieces of at most maxLength UTF-16 units (stricter than Meta's character count),
// at the last whitespace that keeps the piece within the limit; a word longer than the limit is
// cut hard, but never through a surrogate pair.
function splitLong(text: string, maxLength: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > maxLength) {
    const window = rest.slice(0, maxLength + 1);
    let cut = -1;
    for (let i = window.length - 1; i > 0; i--) {
      if (/\s/.test(window[i] as string)) {
        cut = i;
        break;
      }
    }
    let piece: string;
    if (cut > 0 && rest.slice(0, cut).trimEnd().length > 0) {
      piece = rest.slice(0, cut).trimEnd();
      rest = rest.slice(cut).trimStart();
    } else {
      const code = rest.charCodeAt(maxLength - 1);
      const end = code >= 0xd800 && code <= 0xdbff && maxLength > 1 ? maxLength - 1 : maxLength;
      piece = rest.slice(0, end);
      rest = rest.slice(end);
    }
    pieces.push(piece);
  }
  if (rest.length > 0) pieces.push(rest);
  return pieces;
}

// Replies queued for the same customer while pacing holds them back go out as few messages as
// possible (fewer sends, less rate-limit pressure), in order, separated by a blank line.
// Packing greedily in order is optimal when order must be kept.
export function mergeReplies(texts: string[], maxLength = MAX_TEXT_LENGTH): string[] {
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength must be a positive integer, got ${maxLength}`);
  const merged: string[] = [];
  let current = '';
  for (const text of texts) {
    const trimmed = text.trim();
    if (trimmed === '') continue;
    for (const piece of splitLong(trimmed, maxLength)) {
      if (current === '') current = piece;
      else if (current.length + SEPARATOR.length + piece.length <= maxLength) current += SEPARATOR + piece;
      else {
        merged.push(current);
        current = piece;
      }
    }
  }
  if (current !== '') merged.push(current);
  return merged;
}

// Meta's advice after 131056: wait 4^attempt seconds. Capped so a long run of retries still
// re-checks within a quarter of an hour.
export function backoffSeconds(attempt: number): number {
  if (Number.isNaN(attempt)) return 1;
  return Math.min(4 ** Math.max(0, Math.floor(attempt)), MAX_BACKOFF_SECONDS);
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWindowOpen, REFERRAL_WINDOW_MS, WINDOW_MS, windowClosesAt, type WindowOptions } from '../../domain/customer-window';

const H = 60 * 60 * 1000;
const T0 = Date.UTC(2026, 10, 23, 12, 0); // last inbound

describe('customer-service window', () => {
  it('is 24 h, or 72 h from a click-to-WhatsApp ad', () => assert.deepEqual([WINDOW_MS, REFERRAL_WINDOW_MS], [24 * H, 72 * H]));

  const open: [string, number | null, number, WindowOptions | undefined, boolean][] = [
    ['customer never wrote', null, T0, undefined, false],
    ['right after the inbound', T0, T0, undefined, true],
    ['23 h 59 min later', T0, T0 + 24 * H - 60_000, undefined, true],
    ['1 ms before 24 h', T0, T0 + 24 * H - 1, undefined, true],
    ['exactly 24 h later: closed', T0, T0 + 24 * H, undefined, false],
    ['two days later', T0, T0 + 48 * H, undefined, false],
    ['ad referral keeps it open at 48 h', T0, T0 + 48 * H, { lastReferralAtMs: T0 }, true],
    ['ad referral closes at 72 h', T0, T0 + 72 * H, { lastReferralAtMs: T0 }, false],
    ['ad referral with no other inbound', null, T0 + 71 * H, { lastReferralAtMs: T0 }, true],
    ['a newer plain inbound outlives an old referral', T0 + 70 * H, T0 + 80 * H, { lastReferralAtMs: T0 }, true],
    ['null referral is ignored', T0, T0 + 25 * H, { lastReferralAtMs: null }, false],
  ];
  for (const [name, last, now, opts, expected] of open) it(`open: ${name}`, () => assert.equal(isWindowOpen(last, now, opts), expected));

  const closes: [string, number | null, WindowOptions | undefined, number | null][] = [
    ['never wrote', null, undefined, null],
    ['24 h after the inbound', T0, undefined, T0 + 24 * H],
    ['72 h after the referral', T0, { lastReferralAtMs: T0 }, T0 + 72 * H],
    ['whichever is later', T0 + 60 * H, { lastReferralAtMs: T0 }, T0 + 84 * H],
  ];
  for (const [name, last, opts, expected] of closes) it(`closes at: ${name}`, () => assert.equal(windowClosesAt(last, opts), expected));
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifySendError, isRetryable, SEND_ERROR_KINDS, type SendErrorKind } from '../../domain/whatsapp-errors';

describe('WhatsApp send errors', () => {
  const table: [string, number, number | undefined, SendErrorKind][] = [
    ['HTTP 429 without code', 429, undefined, 'throttled'],
    ['4 too many API calls', 400, 4, 'throttled'],
    ['80007 WABA rate limit', 400, 80007, 'throttled'],
    ['130429 number throughput', 400, 130429, 'throttled'],
    ['131056 pair rate limit', 400, 131056, 'throttled'],
    ['131048 spam rate limit', 400, 131048, 'throttled'],
    ['HTTP 500 without code', 500, undefined, 'transient'],
    ['HTTP 503 without code', 503, undefined, 'transient'],
    ['1 unknown API error', 500, 1, 'transient'],
    ['2 service unavailable', 503, 2, 'transient'],
    ['131000 something went wrong', 500, 131000, 'transient'],
    ['133004 server temporarily unavailable', 503, 133004, 'transient'],
    ['131047 outside the 24 h window', 400, 131047, 'window_closed'],
    ['470 legacy re-engagement', 400, 470, 'window_closed'],
    ['190 expired token', 401, 190, 'auth'],
    ['190 with a 400 status', 400, 190, 'auth'],
    ['HTTP 401 without code', 401, undefined, 'auth'],
    ['131026 undeliverable', 400, 131026, 'permanent'],
    ['131049 held for ecosystem health', 400, 131049, 'permanent'],
    ['131051 unsupported type', 400, 131051, 'permanent'],
    ['131052 media download', 400, 131052, 'permanent'],
    ['131053 media upload', 400, 131053, 'permanent'],
    ['132000 template parameter count', 400, 132000, 'permanent'],
    ['132001 template missing', 404, 132001, 'permanent'],
    ['132015 template paused', 400, 132015, 'permanent'],
    ['132016 template disabled', 400, 132016, 'permanent'],
    ['131008 required parameter missing', 400, 131008, 'permanent'],
    ['131009 parameter invalid', 400, 131009, 'permanent'],
    ['100 invalid parameter', 400, 100, 'permanent'],
    ['unknown 4xx code', 400, 999999, 'permanent'],
    ['HTTP 404 without code', 404, undefined, 'permanent'],
    ['webhook failure with an unknown code (no HTTP status)', 0, 123456, 'permanent'],
    ['webhook failure with a known code (no HTTP status)', 0, 131047, 'window_closed'],
    ['a known code wins over a 5xx status', 500, 131026, 'permanent'],
    ['unknown code on a 5xx status', 502, 424242, 'transient'],
    ['unknown code on a 429 status', 429, 424242, 'throttled'],
  ];
  for (const [name, http, code, kind] of table) {
    it(`${name} → ${kind}`, () => {
      const c = classifySendError(http, code);
      assert.equal(c.kind, kind);
      assert.ok(c.reason.length > 10, 'reason for the attendant');
    });
  }

  it('131047 tells the attendant to use a template', () =>
    assert.equal(classifySendError(400, 131047).reason, 'Fora da janela de 24 horas: só é possível enviar um modelo (template) aprovado.'));

  it('an unknown code names itself in the reason', () => assert.match(classifySendError(400, 999999).reason, /código 999999/));
  it('an unknown status names itself in the reason', () => assert.match(classifySendError(404).reason, /HTTP 404/));

  const waits: [string, number, number | undefined, number | undefined, number | undefined][] = [
    ['throttled, first retry: 4 s', 400, 131056, undefined, 4],
    ['throttled, third retry: 64 s', 400, 131056, 3, 64],
    ['throttled, many retries: capped at 15 min', 429, undefined, 9, 900],
    ['131049: no resend for 24 h', 400, 131049, undefined, 86_400],
    ['transient: left to the retry policy', 500, 131000, undefined, undefined],
    ['window closed: no wait, a template is needed', 400, 131047, undefined, undefined],
  ];
  for (const [name, http, code, attempt, expected] of waits) {
    it(`retry after: ${name}`, () => assert.equal(classifySendError(http, code, attempt).retryAfterSeconds, expected));
  }

  const retryable: Record<SendErrorKind, boolean> = {
    throttled: true,
    transient: true,
    window_closed: false,
    permanent: false,
    auth: false,
  };
  for (const kind of SEND_ERROR_KINDS) it(`${kind} retryable: ${retryable[kind]}`, () => assert.equal(isRetryable(kind), retryable[kind]));
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextStatus, STATUS_RANK, statusRank, STORED_STATUSES, type StoredStatus } from '../../domain/message-status';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../domain/whatsapp-messages';

describe('message status', () => {
  // Rows: current; columns: incoming sent, delivered, read, played, failed.
  const matrix: [StoredStatus, Record<DeliveryStatus, StoredStatus>][] = [
    ['pending', { sent: 'sent', delivered: 'delivered', read: 'read', played: 'played', failed: 'failed' }],
    ['sent', { sent: 'sent', delivered: 'delivered', read: 'read', played: 'played', failed: 'failed' }],
    ['failed', { sent: 'failed', delivered: 'delivered', read: 'read', played: 'played', failed: 'failed' }],
    ['delivered', { sent: 'delivered', delivered: 'delivered', read: 'read', played: 'played', failed: 'delivered' }],
    ['read', { sent: 'read', delivered: 'read', read: 'read', played: 'read', failed: 'read' }],
    ['played', { sent: 'played', delivered: 'played', read: 'played', played: 'played', failed: 'played' }],
  ];
  for (const [current, row] of matrix) {
    for (const incoming of DELIVERY_STATUSES) {
      it(`${current} + ${incoming} → ${row[incoming]}`, () => assert.equal(nextStatus(current, incoming), row[incoming]));
    }
  }

  it('every stored status has a rank, and every delivery status is storable', () => {
    assert.deepEqual(Object.keys(STATUS_RANK).sort(), [...STORED_STATUSES].sort());
    for (const s of DELIVERY_STATUSES) assert.ok((STORED_STATUSES as readonly string[]).includes(s));
  });

  it('ranks: pending < sent < failed < delivered < read = played', () =>
    assert.deepEqual(STORED_STATUSES.map(statusRank), [0, 1, 2, 3, 4, 4]));

  // Out-of-order arrival must not change the outcome: the stored value is the highest rank seen.
  const sequences: [string, DeliveryStatus[], StoredStatus][] = [
    ['in order', ['sent', 'delivered', 'read'], 'read'],
    ['reversed', ['read', 'delivered', 'sent'], 'read'],
    ['delivered skipped (read at once)', ['sent', 'read'], 'read'],
    ['duplicates', ['sent', 'sent', 'delivered', 'delivered'], 'delivered'],
    ['failed after sent', ['sent', 'failed'], 'failed'],
    ['sent arriving after failed', ['failed', 'sent'], 'failed'],
    ['contradictory failed after delivered', ['sent', 'delivered', 'failed'], 'delivered'],
    ['voice message played', ['sent', 'delivered', 'played'], 'played'],
  ];
  for (const [name, incoming, expected] of sequences) {
    it(`sequence: ${name}`, () => assert.equal(incoming.reduce<StoredStatus>(nextStatus, 'pending'), expected));
  }
});

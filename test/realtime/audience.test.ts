import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getAppointment } from '../../api/appointments/routes';
import { listCollections } from '../../api/collections/routes';
import { getAssembly, listQuotas } from '../../api/consortium/routes';
import { getContract } from '../../api/contracts/routes';
import { getRequest as getDataSubjectRequest } from '../../api/data-subject-requests/routes';
import { escalationQueue, getConversation, listMessages } from '../../api/conversations/routes';
import { getInvoice } from '../../api/invoices/routes';
import { getLead } from '../../api/leads/routes';
import { getProposal } from '../../api/proposals/routes';
import type { RouteDefinition } from '../../api/route';
import { listTasks } from '../../api/tasks/routes';
import { eventAudience, mayJoinConversation, mayReceive, REALTIME_EVENT_NAMES, type RealtimeEventName } from '../../domain/realtime-events';
import { ROLES, type Role } from '../../domain/roles';
import { broadcastRooms } from '../../infra/realtime-emitter';

// Who receives which live event, written out by hand: a change to the rule has to change this
// table too, on purpose.
const A = 'TENANT_ADMIN';
const M = 'MANAGER';
const T = 'ATTENDANT';
const S = 'SALES';
const F = 'FINANCE';
const MATRIX: Record<RealtimeEventName, readonly Role[]> = {
  'message:new': [A, M, T],
  'message:status': [A, M, T],
  'message:failed': [A, M, T],
  'conversation:updated': [A, M, T],
  'escalation:new': [A, M, T],
  'escalation:accepted': [A, M, T],
  'escalation:sla_breached': [A, M, T],
  'lead:updated': [A, M, S],
  'lead:hot': [A, M, S],
  'task:new': [A, M, S],
  'task:updated': [A, M, S],
  'appointment:updated': [A, M, S],
  'proposal:updated': [A, M, S],
  'contract:updated': [A, M, S],
  'invoice:updated': [A, M, F],
  'collection:updated': [A, M, F],
  'assembly:updated': [A, M, F],
  'quota:updated': [A, M, F],
  'data_subject_request:updated': [A],
};

// The REST route that shows what each event carries: a socket may receive the event exactly when
// its user may call that route.
const READ_ROUTE: Record<RealtimeEventName, RouteDefinition> = {
  'message:new': listMessages,
  'message:status': listMessages,
  'message:failed': listMessages,
  'conversation:updated': getConversation,
  'escalation:new': escalationQueue,
  'escalation:accepted': escalationQueue,
  'escalation:sla_breached': escalationQueue,
  'lead:updated': getLead,
  'lead:hot': getLead,
  'task:new': listTasks,
  'task:updated': listTasks,
  'appointment:updated': getAppointment,
  'proposal:updated': getProposal,
  'contract:updated': getContract,
  'invoice:updated': getInvoice,
  'collection:updated': listCollections,
  'assembly:updated': getAssembly,
  'quota:updated': listQuotas,
  'data_subject_request:updated': getDataSubjectRequest,
};

const TENANT = '11111111-1111-4111-8111-111111111111';
const role = (r: Role) => `role:${TENANT}:${r}`;

describe('who receives which realtime event', () => {
  for (const event of REALTIME_EVENT_NAMES) {
    it(`${event}: ${MATRIX[event].join(', ')}`, () => {
      for (const r of ROLES) assert.equal(mayReceive(r, event), MATRIX[event].includes(r), `${r} × ${event}`);
      assert.deepEqual([...eventAudience(event)].sort(), [...MATRIX[event]].sort());
    });
  }

  it('matches the roles of the REST route that shows the same record', () => {
    for (const event of REALTIME_EVENT_NAMES) {
      const access = READ_ROUTE[event].access;
      assert.notEqual(access, 'public');
      const restRoles = (access as { roles: readonly Role[] }).roles.filter((r) => r !== 'SUPER_ADMIN');
      assert.deepEqual([...eventAudience(event)].sort(), [...restRoles].sort(), event);
    }
  });

  it('lets only the inbox staff follow a conversation', () => {
    const table: [Role, boolean][] = [
      ['SUPER_ADMIN', false],
      ['TENANT_ADMIN', true],
      ['MANAGER', true],
      ['ATTENDANT', true],
      ['SALES', false],
      ['FINANCE', false],
    ];
    for (const [r, allowed] of table) assert.equal(mayJoinConversation(r), allowed, r);
    const inboxRoles = (getConversation.access as { roles: readonly Role[] }).roles;
    for (const r of ROLES) assert.equal(mayJoinConversation(r), inboxRoles.includes(r), `REST parity: ${r}`);
  });

  it('turns a target into rooms within the audience and fences off every other role', () => {
    const user = '22222222-2222-4222-8222-222222222222';
    const conversation = '33333333-3333-4333-8333-333333333333';
    const cases: { target: Parameters<typeof broadcastRooms>[0]; event: RealtimeEventName; rooms: string[]; except: string[] }[] = [
      // Tenant-wide: the audience's role rooms, never a room every tenant user is in.
      {
        target: { tenantId: TENANT, conversationId: conversation },
        event: 'message:new',
        rooms: [role(A), role(M), role(T), `conversation:${TENANT}:${conversation}`],
        except: [role(S), role(F)],
      },
      { target: { tenantId: TENANT }, event: 'invoice:updated', rooms: [role(A), role(M), role(F)], except: [role(T), role(S)] },
      { target: { tenantId: TENANT }, event: 'lead:updated', rooms: [role(A), role(M), role(S)], except: [role(T), role(F)] },
      { target: { tenantId: TENANT }, event: 'assembly:updated', rooms: [role(A), role(M), role(F)], except: [role(T), role(S)] },
      // Named roles outside the audience are dropped; a named user is fenced by the role rooms.
      {
        target: { tenantId: TENANT, conversationId: conversation, roles: ['MANAGER', 'SALES'] },
        event: 'escalation:sla_breached',
        rooms: [role(M), `conversation:${TENANT}:${conversation}`],
        except: [role(S), role(F)],
      },
      { target: { tenantId: TENANT, userIds: [user], roles: ['MANAGER'] }, event: 'task:new', rooms: [`user:${TENANT}:${user}`, role(M)], except: [role(T), role(F)] },
      { target: { tenantId: TENANT, userIds: [], roles: ['FINANCE'] }, event: 'lead:hot', rooms: [], except: [role(T), role(F)] },
    ];
    for (const c of cases) {
      const got = broadcastRooms(c.target, c.event);
      assert.deepEqual(got.rooms.sort(), c.rooms.sort(), `${c.event} rooms`);
      assert.deepEqual(got.except.sort(), c.except.sort(), `${c.event} except`);
    }
  });
});

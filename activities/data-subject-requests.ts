import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { ApplicationFailure, Context, sleep } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Knex } from 'knex';
import { recordAudit } from '../db/audit';
import { Contact, DataSubjectRequest } from '../db/models';
import { readTenantSettings } from '../db/tenant-settings';
import { withTenant } from '../db/tenant-scope';
import { DEFAULT_TENANT_SETTINGS } from '../domain/tenant-settings';
import type { Actor } from '../domain/actor';
import type { AutomationEventName } from '../domain/automation-events';
import {
  anonymizedContact,
  dataSubjectDeadline,
  ERASED_MESSAGE_BODY,
  identifyingStrings,
  OPEN_DATA_SUBJECT_REQUEST_STATUSES,
  protocolOf,
  pseudonymOf,
  registeredReply,
  CORRECTABLE_CONTACT_FIELDS,
  type ContactCorrection,
  type DataSubjectRequestChannel,
  type DataSubjectRequestKind,
  type DataSubjectRequestStatus,
  type DataSubjectRequestStep,
} from '../domain/data-subject-requests';
import { PERMANENT_FAILURE_TYPES } from '../domain/permanent-failures';
import type { DataSubjectRequestUpdatedEvent } from '../domain/realtime-events';
import { realtimeStreamName } from '../infra/realtime-emitter';
import { decodedHistoryText } from '../infra/temporal-history-text';
import { conversationWorkflowId } from '../workflows/conversation/definitions';
import { dataSubjectRequestStart, dataSubjectRequestWorkflowId, type DataSubjectRequestOptions } from '../workflows/data-subject-request';
import { startAutomationEvent } from './automation-events';
import { loadTenantSettings } from './conversations';
import { callerWorkflowId, realtimeOf, type ActivityDeps } from './deps';
import { startOnce } from './temporal-calls';

// LGPD data-subject requests (art. 18): registering one (staff or the contact on WhatsApp), each
// step's record (row, audit, automation event, live event), and the answers: the export, the
// correction and the erasure across Postgres, the media directory, the Redis stream and Temporal.
// The request's workflow hands these ids only; each reads the person's data here, and returns
// counts.

export interface DataSubjectRequestRef {
  tenantId: string;
  requestId: string;
}

export interface RegisterRequest {
  tenantId: string;
  contactId: string;
  kind: DataSubjectRequestKind;
  channel: DataSubjectRequestChannel;
  actor: Actor;
  correction?: ContactCorrection | null;
  // The WhatsApp message that asked (one request per message, however often Meta redelivers it).
  sourceMessageId?: string | null;
  options?: DataSubjectRequestOptions;
}

export type RegisterOutcome =
  | { outcome: 'registered'; request: DataSubjectRequest }
  // The same message again, or an open request of the same kind for the contact: that one stands.
  | { outcome: 'existing'; request: DataSubjectRequest }
  | { outcome: 'no_contact' };

// The row, committed, in the tenant's own transaction; the caller starts the workflow after it
// (workflowStartOf), so the first step of the workflow finds the row.
export async function registerDataSubjectRequest(knex: Knex, r: RegisterRequest): Promise<RegisterOutcome> {
  return withTenant(knex, r.tenantId, async (trx) => {
    if (r.sourceMessageId) {
      const same = await DataSubjectRequest.query(trx).findOne({ sourceMessageId: r.sourceMessageId });
      if (same) return { outcome: 'existing', request: same };
    }
    const contact = await Contact.query(trx).findById(r.contactId);
    if (!contact) return { outcome: 'no_contact' };
    // One open request of a kind per contact: asking again (a second message, a double click) is the same request.
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`data-subject-request:${r.tenantId}`]);
    const open = await DataSubjectRequest.query(trx)
      .where({ contactId: r.contactId, kind: r.kind })
      .whereIn('status', OPEN_DATA_SUBJECT_REQUEST_STATUSES)
      .first();
    if (open) return { outcome: 'existing', request: open };
    const settings = await storedTenantSettings(trx, r.tenantId);
    const requestedAt = new Date();
    const { dueAt } = dataSubjectDeadline(requestedAt, settings.timeZone);
    const max = await trx('data_subject_requests').max<{ max: number | null }>('number as max').first();
    const id = randomUUID();
    const request = await DataSubjectRequest.query(trx).insertAndFetch({
      id,
      tenantId: r.tenantId,
      number: (max?.max ?? 0) + 1,
      contactId: r.contactId,
      kind: r.kind,
      status: 'awaiting_identity',
      channel: r.channel,
      sourceMessageId: r.sourceMessageId ?? null,
      requestedByType: r.actor.type,
      requestedById: r.actor.id,
      requestedAt,
      dueAt,
      correction: r.kind === 'correction' ? (r.correction ?? {}) : null,
      workflowId: dataSubjectRequestWorkflowId(r.tenantId, id),
    });
    return { outcome: 'registered', request };
  });
}

// Also called by the API, outside any activity: the reader itself, without the activity's logger.
async function storedTenantSettings(trx: Knex.Transaction, tenantId: string) {
  return (await readTenantSettings(trx, tenantId))?.settings ?? DEFAULT_TENANT_SETTINGS;
}

export function workflowStartOf(request: DataSubjectRequest, options?: DataSubjectRequestOptions) {
  return dataSubjectRequestStart({ tenantId: request.tenantId, requestId: request.id, ...(options ? { options } : {}) });
}

// --- Erasure helpers ----------------------------------------------------------------------------

interface Subject {
  contact: Contact;
  conversationIds: string[];
  // Strings that identify the person: searched for in free text, payloads and stream entries.
  needles: string[];
}

async function subjectOf(trx: Knex.Transaction, contactId: string): Promise<Subject> {
  const contact = await Contact.query(trx).findById(contactId).throwIfNotFound();
  const conversations = await trx('conversations').where({ contactId }).select('id');
  return { contact, conversationIds: conversations.map((c) => c.id as string), needles: identifyingStrings(contact) };
}

// As a string appears inside JSON text (a stream entry, a decoded payload, a jsonb value).
const inJson = (s: string) => JSON.stringify(s).slice(1, -1);
const mentions = (text: string, needles: string[]) => needles.some((n) => text.includes(n) || text.includes(inJson(n)));

// Tables whose rows are kept as they are: the audit log and the ledgers refuse every change
// (the consent ledger is the proof the law asks for, art. 8 §2; a signed contract's evidence
// chain proves the signature, art. 7 VI), and what Temporal's codec keys hold is no one's data.
// Their rows hold ids, which point at the anonymized contact.
const KEPT_TABLES = new Set(['audit_events', 'consent_events', 'contract_events', 'cadence_versions', 'payload_data_keys', 'data_subject_requests', 'knex_migrations', 'schema_migrations']);

export function dataSubjectRequestActivities(deps: ActivityDeps) {
  const { knex } = deps;
  const realtime = realtimeOf(deps);

  async function requestOf(trx: Knex.Transaction, requestId: string): Promise<DataSubjectRequest> {
    const row = await DataSubjectRequest.query(trx).findById(requestId);
    if (!row) throw ApplicationFailure.create({ type: PERMANENT_FAILURE_TYPES.permanent, message: `data subject request ${requestId} not found`, nonRetryable: true });
    return row;
  }

  const temporal = () => {
    if (!deps.temporal) throw ApplicationFailure.create({ type: 'TemporalClientMissing', message: 'the worker has no Temporal client for the erasure', nonRetryable: true });
    return deps.temporal.client;
  };

  return {
    async loadDataSubjectRequest(ref: DataSubjectRequestRef): Promise<{ kind: DataSubjectRequestKind; status: DataSubjectRequestStatus; dueAt: string; reminders: { key: string; at: string }[] }> {
      return withTenant(knex, ref.tenantId, async (trx) => {
        const row = await requestOf(trx, ref.requestId);
        const settings = await loadTenantSettings(trx, ref.tenantId);
        const plan = dataSubjectDeadline(row.requestedAt, settings.timeZone);
        return { kind: row.kind, status: row.status, dueAt: row.dueAt.toISOString(), reminders: plan.reminders.map((r) => ({ key: r.key, at: r.at.toISOString() })) };
      });
    },

    // One step on the record: the row's status, the audit log, the tenant's automations and the
    // staff who answer requests, live. Details are ids and counts.
    async recordDataSubjectRequestStep(a: DataSubjectRequestRef & {
      step: DataSubjectRequestStep;
      actor: Actor;
      status?: DataSubjectRequestStatus;
      reason?: string;
      reminder?: string;
      details?: Record<string, unknown>;
      completion?: Record<string, unknown>;
    }): Promise<void> {
      const workflowId = callerWorkflowId();
      const now = new Date();
      const row = await withTenant(knex, a.tenantId, async (trx) => {
        const request = await requestOf(trx, a.requestId);
        const patch: Partial<DataSubjectRequest> = { updatedAt: now };
        if (a.status) patch.status = a.status;
        if (a.step === 'identity_confirmed') Object.assign(patch, { identityConfirmedBy: a.actor.id ?? a.actor.type, identityConfirmedAt: request.identityConfirmedAt ?? now });
        if (a.step === 'refused') Object.assign(patch, { refusedBy: a.actor.id ?? a.actor.type, refusedAt: request.refusedAt ?? now, refusalReason: a.reason ?? null, completedAt: request.completedAt ?? now });
        if (a.step === 'completed') Object.assign(patch, { completedAt: request.completedAt ?? now, completion: a.completion ?? {} });
        const updated = await DataSubjectRequest.query(trx).patchAndFetchById(a.requestId, patch);
        const action = `data_subject_request.${a.step}`;
        // A retried step writes its audit row once.
        const seen = await trx('audit_events')
          .where({ action, entityType: 'data_subject_request', entityId: a.requestId })
          .whereRaw(`coalesce(details->>'reminder', '') = ?`, [a.reminder ?? ''])
          .first('id');
        if (!seen) {
          const actor = a.step === 'registered' ? { type: request.requestedByType as Actor['type'], id: request.requestedById } : a.actor;
          await recordAudit(trx, {
            tenantId: a.tenantId,
            actor,
            action,
            entityType: 'data_subject_request',
            entityId: a.requestId,
            workflowId,
            details: {
              contactId: request.contactId,
              kind: request.kind,
              channel: request.channel,
              ...(a.reminder ? { reminder: a.reminder } : {}),
              ...(a.reason ? { reason: a.reason } : {}),
              ...(a.details ?? {}),
              ...(a.completion ? { completion: a.completion } : {}),
            },
          });
        }
        return updated;
      });
      const key = `data-subject-request:${a.requestId}:${a.step}${a.reminder ? `:${a.reminder}` : ''}`;
      await startAutomationEvent(deps, a.tenantId, key, `data_subject_request.${a.step}` as AutomationEventName, {
        requestId: row.id,
        protocol: protocolOf(row.number),
        contactId: row.contactId,
        kind: row.kind,
        status: row.status,
        dueAt: row.dueAt.toISOString(),
        ...(a.reminder ? { reminder: a.reminder } : {}),
      });
      const event: DataSubjectRequestUpdatedEvent = {
        tenantId: a.tenantId,
        requestId: row.id,
        contactId: row.contactId,
        protocol: protocolOf(row.number),
        kind: row.kind,
        status: row.status,
        step: a.step,
        dueAt: row.dueAt.toISOString(),
        updatedAt: row.updatedAt.toISOString(),
      };
      await realtime.emit({ tenantId: a.tenantId }, 'data_subject_request:updated', event);
    },

    // Access and portability (art. 18 II and V): everything held about the contact, as JSON,
    // kept on the request for staff to download. The workflow gets the counts.
    async exportDataSubjectData(ref: DataSubjectRequestRef): Promise<Record<string, number>> {
      return withTenant(knex, ref.tenantId, async (trx) => {
        const request = await requestOf(trx, ref.requestId);
        const data = await collectContactData(trx, request.contactId);
        const counts = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Array.isArray(v) ? v.length : 1]));
        const exportData = {
          format: 'orquestra.lgpd-export.v1',
          protocol: protocolOf(request.number),
          generatedAt: new Date().toISOString(),
          subject: { contactId: request.contactId },
          data,
        };
        await DataSubjectRequest.query(trx).patchAndFetchById(request.id, { exportData, exportedAt: new Date(), updatedAt: new Date() });
        return counts;
      });
    },

    // Correction (art. 18 III): the request's fields applied to the contact. The audit records
    // which fields changed, not their values.
    async correctDataSubjectContact(a: DataSubjectRequestRef & { actor: Actor }): Promise<{ fields: string[] }> {
      return withTenant(knex, a.tenantId, async (trx) => {
        const request = await requestOf(trx, a.requestId);
        const patch: Record<string, string | null> = {};
        for (const field of CORRECTABLE_CONTACT_FIELDS) {
          const v = request.correction?.[field];
          if (v === undefined) continue;
          patch[field] = field === 'email' && v ? v.toLowerCase() : v;
        }
        const fields = Object.keys(patch).sort();
        if (fields.length) {
          await Contact.query(trx).findById(request.contactId).patch({ ...patch, updatedAt: new Date() });
          await recordAudit(trx, {
            tenantId: a.tenantId, actor: a.actor, action: 'contact.corrected', entityType: 'contact', entityId: request.contactId,
            workflowId: callerWorkflowId(), details: { fields, requestId: request.id },
          });
        }
        // What was asked is applied; keeping it on the request would be a second copy of the data.
        await DataSubjectRequest.query(trx).findById(request.id).patch({ correction: Object.fromEntries(fields.map((f) => [f, null])) as ContactCorrection, updatedAt: new Date() });
        return { fields };
      });
    },

    // Temporal: every workflow of the tenant whose history holds the contact (its conversation,
    // the deliveries of its events, a lead's nurturing, an invoice's collection) is ended and its
    // executions deleted, so no payload of theirs can be read again. The request's own workflow and
    // its events carry ids only and stay.
    async eraseDataSubjectWorkflows(ref: DataSubjectRequestRef): Promise<{ checked: number; terminated: number; deleted: number }> {
      const client = temporal();
      const subject = await withTenant(knex, ref.tenantId, async (trx) => subjectOf(trx, (await requestOf(trx, ref.requestId)).contactId));
      const contactId = subject.contact.id;
      const needles = [contactId, ...subject.conversationIds, ...subject.needles];
      const own = [`data-subject-request:${ref.tenantId}:`, `automation-event:${ref.tenantId}:data-subject-request:`];
      const conversation = conversationWorkflowId(ref.tenantId, contactId);
      let checked = 0;
      let terminated = 0;
      let deleted = 0;
      const targets: { workflowId: string; runId: string; running: boolean }[] = [];
      for await (const wf of client.workflow.list({ query: `OrquestraTenantId = '${ref.tenantId}'` })) {
        if (own.some((p) => wf.workflowId.startsWith(p))) continue;
        checked++;
        let refers = wf.workflowId === conversation;
        if (!refers) {
          try {
            refers = mentions(await decodedHistoryText(client, wf.workflowId, wf.runId), needles);
          } catch (err) {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          }
        }
        if (refers) targets.push({ workflowId: wf.workflowId, runId: wf.runId, running: wf.status.name === 'RUNNING' });
      }
      // A conversation started a moment ago may not be listed yet: its id is known.
      if (!targets.some((t) => t.workflowId === conversation)) {
        try {
          const d = await client.workflow.getHandle(conversation).describe();
          targets.push({ workflowId: conversation, runId: d.runId, running: d.status.name === 'RUNNING' });
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }
      const namespace = client.options.namespace;
      // Deleting a running execution terminates it first (the server does both); a closed one is
      // deleted as it is. The server removes it asynchronously: the step ends once each is gone.
      for (const t of targets) {
        try {
          await client.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId: t.workflowId, runId: t.runId } });
          if (t.running) terminated++;
          deleted++;
        } catch (err) {
          // Already gone (a retry of this step).
          if ((err as { code?: number }).code !== 5) throw err;
        }
      }
      const deadline = Date.now() + 3 * 60_000;
      for (const t of targets) {
        for (;;) {
          try {
            await client.workflow.getHandle(t.workflowId, t.runId).describe();
          } catch (err) {
            if (err instanceof WorkflowNotFoundError || (err as { code?: number }).code === 5) break;
            throw err;
          }
          if (Date.now() > deadline) throw ApplicationFailure.create({ type: 'WorkflowNotYetDeleted', message: `workflow ${t.workflowId} is not deleted yet` });
          Context.current().heartbeat();
          await sleep(500);
        }
      }
      return { checked, terminated, deleted };
    },

    // Redis: the live-event stream keeps the last events for reconnecting dashboards; the entries
    // about the contact (their messages, their conversation's previews) are deleted from it.
    async eraseDataSubjectRealtime(ref: DataSubjectRequestRef): Promise<{ streamEntries: number }> {
      const redis = deps.redis;
      if (!redis) return { streamEntries: 0 };
      const subject = await withTenant(knex, ref.tenantId, async (trx) => subjectOf(trx, (await requestOf(trx, ref.requestId)).contactId));
      const bodies = await withTenant(knex, ref.tenantId, async (trx) =>
        (await trx('messages').where({ contactId: subject.contact.id }).whereRaw('length(body) >= 4').select('body')).map((m) => m.body as string),
      );
      const needles = [subject.contact.id, ...subject.conversationIds, ...subject.needles, ...bodies];
      const stream = realtimeStreamName(deps.redisKeyPrefix ?? 'orq:');
      let removed = 0;
      let start = '-';
      for (;;) {
        const entries = (await redis.xrange(stream, start, '+', 'COUNT', 500)) as [string, string[]][];
        if (entries.length === 0) break;
        const doomed = entries.filter(([, fields]) => {
          const text = fields.join('\n');
          return text.includes(ref.tenantId) && mentions(text, needles);
        }).map(([id]) => id);
        if (doomed.length) removed += await redis.xdel(stream, ...doomed);
        if (entries.length < 500) break;
        start = `(${entries[entries.length - 1]![0]}`;
      }
      return { streamEntries: removed };
    },

    // The media directory: the files of the contact's messages, unless another contact's message
    // holds the same bytes (files are stored once per content).
    async eraseDataSubjectMedia(ref: DataSubjectRequestRef): Promise<{ files: number }> {
      const root = resolve(deps.mediaDir ?? '.data/media');
      const keys = await withTenant(knex, ref.tenantId, async (trx) => {
        const request = await requestOf(trx, ref.requestId);
        const rows = await trx('media as m')
          .join('messages as msg', 'msg.mediaId', 'm.id')
          .where('msg.contactId', request.contactId)
          .whereNotExists(
            trx('media as o').join('messages as om', 'om.mediaId', 'o.id').whereRaw('o.storage_key = m.storage_key').whereNot('om.contactId', request.contactId),
          )
          .distinct('m.storageKey');
        return rows.map((r) => r.storageKey as string);
      });
      let files = 0;
      for (const key of keys) {
        const path = resolve(join(root, key));
        if (!path.startsWith(root + sep)) continue; // a key is ours, always under the root
        try {
          await unlink(path);
          files++;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      return { files };
    },

    // Postgres, last: the contact becomes a pseudonym, their texts are removed, and the strings
    // that named them are replaced wherever free text copied them. One transaction.
    async anonymizeDataSubjectRecords(ref: DataSubjectRequestRef): Promise<Record<string, unknown>> {
      return withTenant(knex, ref.tenantId, async (trx) => {
        const request = await requestOf(trx, ref.requestId);
        const contactId = request.contactId;
        const subject = await subjectOf(trx, contactId);
        const pseudonym = pseudonymOf(contactId);
        const counts: Record<string, number> = {};
        const add = (k: string, n: number) => {
          if (n) counts[k] = (counts[k] ?? 0) + n;
        };

        const mediaIds = (await trx('messages').where({ contactId }).whereNotNull('mediaId').select('mediaId')).map((r) => r.mediaId as string);
        add('messages', await trx('messages').where({ contactId }).update({ body: knex.raw(`CASE WHEN body = '' THEN '' ELSE ? END`, [ERASED_MESSAGE_BODY]), payload: '{}', error: null, mediaId: null }));
        if (mediaIds.length) add('media', await trx('media').whereIn('id', mediaIds).whereNotExists(trx('messages').whereRaw('messages.media_id = media.id')).delete());
        add('conversations', await trx('conversations').where({ contactId }).update({ lastMessagePreview: null }));
        const leadIds = (await trx('leads').where({ contactId }).select('id')).map((r) => r.id as string);
        if (leadIds.length) {
          add('leads', await trx('leads').whereIn('id', leadIds).update({ interest: '', interestKey: knex.raw(`'anonimizado:' || id::text`), sourceDetail: null, scoreReasons: '[]' }));
          add('lead_events', await trx('lead_events').whereIn('leadId', leadIds).update({ data: '{}' }));
          add('tasks', await trx('tasks').whereIn('leadId', leadIds).whereNotNull('outcome').update({ outcome: null }));
        }
        add('appointments', await trx('appointments').where({ contactId }).update({ notes: null, location: null, outcomeNote: null }));
        add('proposals', await trx('proposals').where({ contactId }).update({ notes: null, decisionReason: null, decisionEvidence: null }));
        // Signers of the contact's contracts: the evidence chain (contract_events) and the sealed
        // PDF are kept as the proof of the signature (art. 7 VI); the signer rows lose what the proof does not need.
        const signers = trx('contract_signers').whereIn('contractId', trx('contracts').where({ contactId }).select('id'));
        if (subject.contact.waId) signers.orWhere({ waId: subject.contact.waId });
        add('contract_signers', await signers.update({ name: pseudonym, waId: pseudonym, email: null, signedIp: null, signedUserAgent: null }));

        // Invoices keep number, amounts, dates and payments (fiscal records: CTN art. 173 and 195;
        // LGPD art. 16 I, a legal obligation), with the payer now the pseudonymized contact; so does
        // the CPF/CNPJ on the contact when there are invoices. Without invoices it goes too.
        const invoices = Number((await trx('invoices').where({ contactId }).count<{ count: string }[]>('* as count'))[0]?.count ?? 0);
        const keepDocument = invoices > 0 && subject.contact.document !== null;
        const erased = anonymizedContact(contactId, { keepDocument, document: subject.contact.document });
        await Contact.query(trx).findById(contactId).patch({ ...erased, doNotContactReason: 'lgpd_erasure', doNotContactAt: new Date(), updatedAt: new Date() });
        add('contacts', 1);
        // Earlier exports and corrections of this contact are copies of the data.
        add('data_subject_requests', await trx('data_subject_requests').where({ contactId }).where((q) => q.whereNotNull('exportData').orWhereNotNull('correction')).update({ exportData: null, correction: null }));

        // Free text anywhere else (a task's title, an invoice's description, a note) that copied a
        // name, the phone or the e-mail: replaced by the pseudonym. A scan of the tenant's text
        // columns, fine for a request that comes a few times a year.
        const needles = subject.needles.filter((n) => !(keepDocument && n === subject.contact.document));
        if (needles.length) {
          const { rows } = await trx.raw(`
            SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
            WHERE c.table_schema = 'public' AND c.data_type IN ('text', 'jsonb', 'character varying')
              AND EXISTS (SELECT 1 FROM information_schema.columns t WHERE t.table_schema = 'public' AND t.table_name = c.table_name AND t.column_name = 'tenant_id')
              AND EXISTS (SELECT 1 FROM information_schema.tables b WHERE b.table_schema = 'public' AND b.table_name = c.table_name AND b.table_type = 'BASE TABLE')
            ORDER BY 1, 2`);
          for (const col of rows as { table_name: string; column_name: string; data_type: string }[]) {
            if (KEPT_TABLES.has(col.table_name)) continue;
            for (const needle of needles) {
              const n = col.data_type === 'jsonb' ? await trx.raw(`UPDATE ?? SET ?? = replace(??::text, ?, ?)::jsonb WHERE strpos(??::text, ?) > 0`, [col.table_name, col.column_name, col.column_name, inJson(needle), inJson(pseudonym), col.column_name, inJson(needle)])
                : await trx.raw(`UPDATE ?? SET ?? = replace(??, ?, ?) WHERE strpos(??, ?) > 0`, [col.table_name, col.column_name, col.column_name, needle, pseudonym, col.column_name, needle]);
              add(`text:${col.table_name}`, (n as { rowCount?: number }).rowCount ?? 0);
            }
          }
        }
        return {
          pseudonym,
          counts,
          kept: {
            consentLedger: 'consent_events keeps every entry (LGPD art. 8 §2); its subject is the pseudonymized contact',
            invoices: invoices ? 'amounts, dates and payments kept (CTN art. 173/195; LGPD art. 16 I)' : 'none',
            document: keepDocument ? 'CPF/CNPJ kept for the invoices (LGPD art. 16 I)' : 'removed',
            auditLog: 'audit_events holds ids only',
            contractEvidence: 'contract_events and sealed documents kept as proof of signature (LGPD art. 7 VI)',
          },
        };
      });
    },

    // The contact asked on WhatsApp ("apagar meus dados"): the request is registered and the
    // contact hears its protocol and deadline. A redelivered message finds the same request.
    async registerDataSubjectRequestByWhatsApp(a: { tenantId: string; contactId: string; messageId: string; kind: DataSubjectRequestKind }): Promise<{ requestId: string; reply: string }> {
      const r = await registerDataSubjectRequest(knex, {
        tenantId: a.tenantId,
        contactId: a.contactId,
        kind: a.kind,
        channel: 'whatsapp',
        actor: { type: 'system', id: null },
        sourceMessageId: a.messageId,
        correction: a.kind === 'correction' ? {} : null,
      });
      if (r.outcome === 'no_contact') throw ApplicationFailure.create({ type: PERMANENT_FAILURE_TYPES.permanent, message: `contact ${a.contactId} not found`, nonRetryable: true });
      await startOnce(deps, workflowStartOf(r.request));
      const timeZone = await withTenant(knex, a.tenantId, async (trx) => (await loadTenantSettings(trx, a.tenantId)).timeZone);
      return { requestId: r.request.id, reply: registeredReply({ kind: r.request.kind, protocol: protocolOf(r.request.number), dueAt: r.request.dueAt, timeZone }) };
    },
  };
}

// Everything held about one contact, table by table (rows as stored, ids included).
export async function collectContactData(trx: Knex.Transaction, contactId: string): Promise<Record<string, unknown>> {
  const contact = await trx('contacts').where({ id: contactId }).first();
  const byContact = (table: string, order = 'created_at') => trx(table).where({ contactId }).orderByRaw(`${order} NULLS LAST`);
  const conversations = await byContact('conversations', 'opened_at');
  const conversationIds = conversations.map((c) => c.id as string);
  const messages = await trx('messages').where({ contactId }).orderBy('seq').select('id', 'conversationId', 'direction', 'senderType', 'type', 'body', 'payload', 'wamid', 'status', 'mediaId', 'occurredAt');
  const mediaIds = messages.map((m) => m.mediaId as string | null).filter((x): x is string => Boolean(x));
  const leads = await byContact('leads');
  const leadIds = leads.map((l) => l.id as string);
  const contracts = await byContact('contracts');
  const contractIds = contracts.map((c) => c.id as string);
  const invoices = await trx('invoices').where({ contactId }).orderBy('number');
  const invoiceIds = invoices.map((i) => i.id as string);
  return {
    contact,
    conversations,
    messages,
    media: mediaIds.length ? await trx('media').whereIn('id', mediaIds).select('id', 'mimeType', 'sha256', 'sizeBytes', 'filename', 'createdAt') : [],
    escalations: conversationIds.length ? await trx('escalations').whereIn('conversationId', conversationIds) : [],
    consentEvents: await trx('consent_events').where({ contactId }).orderBy('seq'),
    leads,
    leadEvents: leadIds.length ? await trx('lead_events').whereIn('leadId', leadIds).orderBy('seq') : [],
    tasks: leadIds.length ? await trx('tasks').whereIn('leadId', leadIds) : [],
    appointments: await byContact('appointments', 'starts_at'),
    proposals: (await byContact('proposals')).map(({ linkTokenHash: _t, ...p }) => p),
    contracts,
    contractSigners: contractIds.length ? (await trx('contract_signers').whereIn('contractId', contractIds)).map(({ linkTokenHash: _t, codeHash: _c, ...s }) => s) : [],
    subscriptions: await byContact('subscriptions'),
    invoices,
    payments: invoiceIds.length ? await trx('payments').whereIn('invoiceId', invoiceIds) : [],
    consortiumQuotas: await byContact('consortium_quotas'),
    dataSubjectRequests: await trx('data_subject_requests').where({ contactId }).orderBy('number').select('id', 'number', 'kind', 'status', 'channel', 'requestedAt', 'dueAt', 'completedAt'),
  };
}

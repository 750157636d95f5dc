import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { intakeLead } from '../../activities/lead-intake';
import { recordConsent } from '../../db/consent';
import { LeadForm, Offering } from '../../db/models';
import { readTenantSettings } from '../../db/tenant-settings';
import { withTenant } from '../../db/tenant-scope';
import { newSecret, sha256 } from '../auth/secrets';
import { keysetPage, pageOf, pageQuery } from '../pagination';
import { notFound, tooManyRequests } from '../problem';
import { publicRoute, route } from '../route';
import { uuidParam } from '../schemas';
import { createLeadFormBody, leadFormKeyParam, leadFormView, publicLeadBody, toLeadFormView } from './schema';

// A tenant's website posts its lead form with a key of its own (shown once, kept as a hash,
// revocable). The public endpoint is rate-limited per IP and per form, drops what looks like a
// bot without telling it, and answers the same 202 whether the person was known or not.

const admins = { roles: ['TENANT_ADMIN' as const] };

// Per visitor (IP) on one form, and per form overall: a person sends a form a few times at most;
// a campaign's landing page may get many people at once.
export const LEAD_FORM_LIMITS = { perIpPerMinute: 5, perFormPerMinute: 300 };
// Faster than this from the page rendering to the submission is not a person typing.
export const MIN_FILL_MS = 2_000;

export const listLeadForms = route({
  method: 'get',
  path: '/lead-forms',
  summary: 'The tenant’s lead form keys (never the keys themselves)',
  tags: ['lead-forms'],
  access: admins,
  query: pageQuery,
  responses: { 200: { description: 'A page of forms', schema: pageOf(leadFormView) } },
  async handler({ query, db }) {
    const { rows, nextCursor } = await keysetPage(LeadForm.query(db), query);
    return { body: { items: rows.map(toLeadFormView), nextCursor } };
  },
});

export const createLeadForm = route({
  method: 'post',
  path: '/lead-forms',
  summary: 'Create a lead form key for the tenant’s website; the key is shown only in this response',
  tags: ['lead-forms'],
  access: admins,
  body: createLeadFormBody,
  responses: { 201: { description: 'Created; store `key` now', schema: leadFormView.extend({ key: z.string() }) } },
  async handler({ body, db, tenantId, audit }) {
    const id = randomUUID();
    const key = `lf_${newSecret()}`;
    const row = await LeadForm.query(db).insertAndFetch({
      id,
      tenantId,
      name: body.name,
      keyPrefix: key.slice(0, 9),
      keyHash: sha256(key),
      consentTextVersion: body.consentTextVersion ?? null,
      active: true,
    });
    await audit({ action: 'lead_form.created', entityType: 'lead_form', entityId: id, details: { name: body.name } });
    return { status: 201, headers: { location: `/api/lead-forms/${id}` }, body: { ...toLeadFormView(row), key } };
  },
});

export const revokeLeadForm = route({
  method: 'delete',
  path: '/lead-forms/:formId',
  summary: 'Revoke a lead form key; the website’s posts are refused from now on',
  tags: ['lead-forms'],
  access: admins,
  params: uuidParam('formId'),
  responses: { 204: { description: 'Revoked (also when it already was)' }, 404: { description: 'Not in this tenant' } },
  async handler({ params, db, audit }) {
    const row = await LeadForm.query(db).findById(params.formId).forUpdate();
    if (!row) throw notFound('Formulário não encontrado.');
    if (row.active) {
      await LeadForm.query(db).patch({ active: false }).where({ id: row.id });
      await audit({ action: 'lead_form.revoked', entityType: 'lead_form', entityId: row.id, details: { name: row.name } });
    }
    return { status: 204 };
  },
});

const ACCEPTED = { status: 202, body: { status: 'accepted' as const } };

export const submitLeadForm = publicRoute({
  method: 'post',
  path: '/public/lead-forms/:key/leads',
  summary: 'A website’s lead form (public, with the form key): answers 202 whatever the person’s history',
  tags: ['lead-forms'],
  params: leadFormKeyParam,
  body: publicLeadBody,
  responses: {
    202: { description: 'Received', schema: z.object({ status: z.literal('accepted') }) },
    404: { description: 'Unknown or revoked form key' },
    429: { description: 'Too many submissions from this IP or to this form' },
  },
  async handler({ params, body, deps, koa, log }) {
    const keyHash = sha256(params.key);
    const perIp = await deps.rateLimits.consume('lead-form-ip', `${keyHash}|${koa.ip}`, LEAD_FORM_LIMITS.perIpPerMinute, 60);
    const perForm = perIp.allowed ? await deps.rateLimits.consume('lead-form', keyHash, LEAD_FORM_LIMITS.perFormPerMinute, 60) : perIp;
    if (!perIp.allowed || !perForm.allowed) {
      throw tooManyRequests(Math.max(perIp.retryAfterSeconds, perForm.retryAfterSeconds), 'Muitos envios deste formulário. Tente novamente em instantes.');
    }
    const { rows } = await deps.knex.raw('SELECT * FROM public_find_lead_form(?)', [keyHash]);
    const form = rows[0] as { form_id: string; tenant_id: string; active: boolean; tenant_status: string } | undefined;
    if (!form || !form.active || form.tenant_status !== 'active') throw notFound('Formulário não encontrado.');

    const startedAt = body.startedAt ? Date.parse(body.startedAt) : undefined;
    const tooFast = startedAt !== undefined && (Date.now() - startedAt < MIN_FILL_MS || startedAt > Date.now() + 60_000);
    if (body.website || tooFast) {
      // A bot hears the same as a person, so it does not learn to look like one.
      log.info({ formId: form.form_id, honeypot: Boolean(body.website), tooFast }, 'lead form submission dropped as spam');
      return ACCEPTED;
    }

    const tenantId = form.tenant_id;
    const userAgent = koa.get('user-agent').slice(0, 500);
    const { offeringId, textVersion, formName } = await withTenant(deps.knex, tenantId, async (trx) => {
      const row = await LeadForm.query(trx).findById(form.form_id).throwIfNotFound();
      const offering = body.offeringId ? await Offering.query(trx).findById(body.offeringId) : undefined;
      const settings = await readTenantSettings(trx, tenantId);
      return {
        offeringId: offering?.id ?? null,
        textVersion: row.consentTextVersion ?? settings?.settings.sales.marketingConsentTextVersion ?? 'marketing-v1',
        formName: row.name,
      };
    });
    const actor = { type: 'system' as const, id: `lead_form:${form.form_id}` };
    await intakeLead(
      deps,
      {
        tenantId,
        contact: { waId: body.phone, name: body.name, email: body.email ?? null },
        offeringId,
        interest: body.interest ?? '',
        source: 'website_form',
        sourceDetail: formName,
        note: body.message ?? null,
        actor,
      },
      async (trx, { lead }) => {
        if (!body.marketingConsent) return;
        await recordConsent(trx, {
          tenantId,
          contactId: lead.contactId,
          purpose: 'marketing',
          action: 'granted',
          channel: 'web_form',
          textVersion,
          evidence: { ip: koa.ip, userAgent, formId: form.form_id, ...(body.pageUrl ? { pageUrl: body.pageUrl } : {}) },
          recordedBy: actor,
        });
      },
    );
    return ACCEPTED;
  },
});

export const leadFormRoutes = [listLeadForms, createLeadForm, revokeLeadForm, submitLeadForm];

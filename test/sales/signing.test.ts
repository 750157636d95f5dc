import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PDFDocument } from 'pdf-lib';
import { inflateSync } from 'node:zlib';
import { contractActivities } from '../../activities/contracts';
import { createContract } from '../../api/contracts/contract-service';
import { brokenLink } from '../../db/contract-evidence';
import { ContractEvent } from '../../db/models';
import { withTenant } from '../../db/tenant-scope';
import { verifySealedPdf } from '../../infra/pdf/verify';
import { contractSigningStateQuery, contractWorkflowId } from '../../workflows/contract-signing';
import { recordHistory } from '../support/histories';
import { startStack, type TestStack } from '../support/stack';
import { guestPhone, until, type WhatsAppTenant } from '../support/whatsapp';
import { contactWithLead, contractRow, linkFor, sentTemplates, sha256, signAs, signingTenant, untilStatus } from './signing-support';

// The contract-signing workflow end to end: links over WhatsApp on each signer's turn, the
// public endpoints recording the evidence, the sealed final with its evidence page, the lead won,
// billing handed the contract, and a cancel that compensates it.

// The text pdf-lib drew, from the (Flate-compressed) content streams: hex strings decoded.
function pdfText(pdf: Buffer): string {
  const raw = pdf.toString('latin1');
  let out = '';
  for (const m of raw.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    let content: string;
    try {
      content = inflateSync(Buffer.from(m[1] as string, 'latin1')).toString('latin1');
    } catch {
      content = m[1] as string;
    }
    for (const h of content.matchAll(/<([0-9A-Fa-f]+)>\s*Tj/g)) out += Buffer.from(h[1] as string, 'hex').toString('latin1') + '\n';
  }
  return out;
}

describe('contract signing', () => {
  let stack: TestStack;
  let t: WhatsAppTenant;

  before(async () => {
    stack = await startStack({ env: { WHATSAPP_PER_CUSTOMER_INTERVAL_MS: '0', PUBLIC_BASE_URL: 'https://assinar.exemplo.com.br' } });
    t = await signingTenant(stack);
  });
  after(async () => stack.stop());

  const postContract = async (tenant: WhatsAppTenant, body: Record<string, unknown>) => {
    const res = await stack.api.post('/api/contracts', { token: tenant.admin.token, body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; number: number; signers: { id: string; waId: string; position: number }[] };
  };

  it('sequential: the second signer gets nothing until the first signs; sealed, lead won, billing started; cancel compensates', async () => {
    const ana = await contactWithLead(stack, t.tenantId);
    const bruno = { name: 'Bruno Fiador', waId: guestPhone(), document: '123.456.789-09' };
    const contract = await postContract(t, {
      contactId: ana.contactId,
      leadId: ana.leadId,
      totalCents: 12_345_600,
      signingOrder: 'sequential',
      signers: [{ name: ana.name, waId: ana.waId, document: '987.654.321-00' }, bruno],
    });
    const workflowId = contractWorkflowId(t.tenantId, contract.id);

    const anaToken = await linkFor(stack, ana.waId);
    const html = await stack.api.get(`/sign/${anaToken}`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    assert.match(html.body, /Enviar código/);
    assert.match(html.body, new RegExp(`Olá, ${ana.name}`));

    const view = await stack.api.get(`/api/public/signing/${anaToken}`);
    assert.equal(view.status, 200);
    assert.equal(view.body.yourTurn, true);
    assert.equal(view.body.contractNumber, contract.number);
    const row = await contractRow(stack, t.tenantId, contract.id);
    assert.equal(view.body.documentSha256, row.originalSha256);

    // Bruno's turn has not come: no message, no link, still waiting in the workflow's view.
    assert.deepEqual(stack.graph.sentTo(bruno.waId), []);
    const handle = stack.deps.temporal.client.workflow.getHandle(workflowId);
    const state = await until('Ana notified in the workflow', async () => {
      const s = await handle.query(contractSigningStateQuery);
      return s.signers[0]?.status === 'notified' && s;
    });
    assert.deepEqual(state.signers.map((s) => s.status), ['notified', 'waiting']);

    // A wrong code is refused with the attempts left, and the refusal is evidence too.
    await stack.api.get(`/api/public/signing/${anaToken}/document`);
    assert.equal((await stack.api.post(`/api/public/signing/${anaToken}/code`)).status, 200);
    const wrong = await stack.api.post(`/api/public/signing/${anaToken}/sign`, { body: { code: '000000' === (await codeOf(ana.waId)) ? '111111' : '000000', documentSha256: row.originalSha256, accept: true } });
    assert.equal(wrong.status, 422, JSON.stringify(wrong.body));
    assert.equal(wrong.headers.get('content-type'), 'application/problem+json');
    assert.match(wrong.body.detail, /Restam 4 tentativa/);
    // A different document than the original is refused.
    const otherDoc = await stack.api.post(`/api/public/signing/${anaToken}/sign`, { body: { code: await codeOf(ana.waId), documentSha256: sha256('outro documento'), accept: true } });
    assert.equal(otherDoc.status, 409, JSON.stringify(otherDoc.body));
    const pdf = Buffer.from(await (await fetch(`${stack.baseUrl}/api/public/signing/${anaToken}/document`)).arrayBuffer());
    const signed = await stack.api.post(`/api/public/signing/${anaToken}/sign`, {
      body: { code: await codeOf(ana.waId), documentSha256: sha256(pdf), accept: true },
      headers: { 'user-agent': 'Navegador da Ana' },
    });
    assert.equal(signed.status, 200, JSON.stringify(signed.body));

    // Used: the same link cannot act again.
    const reused = await stack.api.post(`/api/public/signing/${anaToken}/sign`, { body: { code: '123456', documentSha256: sha256(pdf), accept: true } });
    assert.equal(reused.status, 409);
    assert.match(reused.body.detail, /já assinou/);
    const reusedPage = await stack.api.get(`/sign/${anaToken}`);
    assert.match(reusedPage.body, /já assinou/);

    const brunoToken = await linkFor(stack, bruno.waId);
    await signAs(stack, bruno.waId, brunoToken);
    const active = await untilStatus(stack, t.tenantId, contract.id, 'active');

    // The final: the original plus an evidence page, sealed, its hash the one on the contract.
    const final = await stack.api.get(`/api/contracts/${contract.id}/document?kind=final`, { token: t.admin.token });
    assert.equal(final.status, 200);
    const finalBytes = Buffer.from(await (await fetch(`${stack.baseUrl}/api/contracts/${contract.id}/document?kind=final`, { headers: { authorization: `Bearer ${t.admin.token}` } })).arrayBuffer());
    assert.equal(sha256(finalBytes), active.finalSha256);
    const verified = verifySealedPdf(finalBytes);
    assert.equal(verified.signed, true);
    assert.equal(verified.byteRangeDigestOk, true);
    // Whatever the platform certificate is named, the seal names it.
    assert.ok(verified.signerCommonName, 'the seal names the platform certificate');
    const originalPages = (await PDFDocument.load(pdf)).getPageCount();
    assert.ok((await PDFDocument.load(finalBytes)).getPageCount() > originalPages, 'an evidence page was appended');
    const text = pdfText(finalBytes);
    assert.ok(text.includes(active.originalSha256), 'the evidence page prints the original’s SHA-256');
    const signers = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contractSigners').where({ contractId: contract.id }).orderBy('position'));
    for (const s of signers) {
      assert.equal(s.status, 'signed');
      assert.ok(s.signedIp, 'the signer’s IP is recorded');
      assert.ok(text.includes(s.name) && text.includes(s.signedIp), `the evidence lists ${s.name} with the IP`);
      assert.equal(s.signedDocumentSha256, active.originalSha256);
    }
    assert.equal(signers[0].signedUserAgent, 'Navegador da Ana');

    // The evidence chain holds and tells the whole story; the completion record lists every hash.
    const events = await withTenant(stack.deps.knex, t.tenantId, async (trx) => ContractEvent.query(trx).where({ contractId: contract.id }).orderBy('seq'));
    assert.equal(brokenLink(events), null);
    const types = events.map((e) => e.type);
    for (const type of ['created', 'document_rendered', 'link_sent', 'sent', 'viewed', 'code_sent', 'code_failed', 'code_verified', 'signed', 'completed', 'sealed', 'billing_started', 'activated']) {
      assert.ok(types.includes(type as never), `event ${type} in ${types.join(',')}`);
    }
    assert.ok(types.indexOf('completed') < types.indexOf('sealed') && types.indexOf('billing_started') < types.indexOf('activated'));
    const completed = events.find((e) => e.type === 'completed') as ContractEvent;
    assert.equal(completed.data.finalSha256, active.finalSha256);
    assert.equal((completed.data.events as unknown[]).length, types.indexOf('completed'));

    const handoff = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('billingHandoffs').where({ contractId: contract.id }).first());
    assert.equal(handoff.status, 'started');
    assert.equal(Number(handoff.totalCents), 12_345_600);
    const lead = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('leads').where({ id: ana.leadId }).first());
    assert.equal(lead.stage, 'won');

    // Cancelling the active contract compensates billing, keeping its reference.
    const cancelled = await stack.api.post(`/api/contracts/${contract.id}/cancel`, { token: t.admin.token, body: { reason: 'Cliente desistiu' } });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.status, 'cancelled');
    const compensated = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('billingHandoffs').where({ contractId: contract.id }).first());
    assert.equal(compensated.status, 'cancelled');
    const detail = await stack.api.get(`/api/contracts/${contract.id}`, { token: t.admin.token });
    const tail = detail.body.events.map((e: { type: string }) => e.type).slice(-2);
    assert.deepEqual(tail, ['billing_cancelled', 'cancelled']);
    const again = await stack.api.post(`/api/contracts/${contract.id}/cancel`, { token: t.admin.token, body: { reason: 'de novo' } });
    assert.equal(again.status, 409);
    await recordHistory(stack, workflowId, 'contract-sequential-signed-cancelled');
  });

  it('parallel: every signer gets a link at once; either order completes it', async () => {
    const ana = await contactWithLead(stack, t.tenantId);
    const carla = { name: 'Carla Sócia', waId: guestPhone() };
    const contract = await postContract(t, { contactId: ana.contactId, totalCents: 50_000, signingOrder: 'parallel', signers: [{ name: ana.name, waId: ana.waId }, carla] });
    const [anaToken, carlaToken] = await Promise.all([linkFor(stack, ana.waId), linkFor(stack, carla.waId)]);
    await signAs(stack, carla.waId, carlaToken);
    assert.equal((await contractRow(stack, t.tenantId, contract.id)).status, 'signing');
    await signAs(stack, ana.waId, anaToken);
    await untilStatus(stack, t.tenantId, contract.id, 'active');
    // The contract's workflow stays, waiting for a cancel.
    const state = await stack.deps.temporal.client.workflow.getHandle(contractWorkflowId(t.tenantId, contract.id)).query(contractSigningStateQuery);
    assert.equal(state.phase, 'active');
  });

  it('a decline ends it: later signers never hear of it, and the link cannot act again', async () => {
    const ana = await contactWithLead(stack, t.tenantId);
    const bruno = { name: 'Bruno', waId: guestPhone() };
    const contract = await postContract(t, { contactId: ana.contactId, totalCents: 1_000, signers: [{ name: ana.name, waId: ana.waId }, bruno] });
    const token = await linkFor(stack, ana.waId);
    const declined = await stack.api.post(`/api/public/signing/${token}/decline`, { body: { reason: 'Valor diferente do combinado' } });
    assert.equal(declined.status, 200, JSON.stringify(declined.body));
    const row = await untilStatus(stack, t.tenantId, contract.id, 'declined');
    assert.equal(row.endReason, 'declined');
    assert.deepEqual(stack.graph.sentTo(bruno.waId), []);
    const again = await stack.api.post(`/api/public/signing/${token}/code`);
    assert.equal(again.status, 409);
    const workflowId = contractWorkflowId(t.tenantId, contract.id);
    await stack.deps.temporal.client.workflow.getHandle(workflowId).result();
    await recordHistory(stack, workflowId, 'contract-declined');
  });

  it('staff cancel while signing ends it without billing', async () => {
    const ana = await contactWithLead(stack, t.tenantId);
    const contract = await postContract(t, { contactId: ana.contactId, totalCents: 1_000, signers: [{ name: ana.name, waId: ana.waId }] });
    const token = await linkFor(stack, ana.waId);
    const res = await stack.api.post(`/api/contracts/${contract.id}/cancel`, { token: t.admin.token, body: { reason: 'Proposta revista' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'cancelled');
    const afterCancel = await stack.api.post(`/api/public/signing/${token}/code`);
    assert.equal(afterCancel.status, 409);
    const handoff = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('billingHandoffs').where({ contractId: contract.id }).first());
    assert.equal(handoff, undefined);
  });

  it('tampered, malformed and cross-contract links reach nothing but their own contract', async () => {
    const tampered = 'A'.repeat(43);
    const json = await stack.api.get(`/api/public/signing/${tampered}`);
    assert.equal(json.status, 404);
    assert.equal(json.headers.get('content-type'), 'application/problem+json');
    assert.match(json.body.detail, /não encontrado/);
    const page = await stack.api.get(`/sign/${tampered}`);
    assert.equal(page.status, 404);
    assert.match(page.body, /Link não encontrado/);
    assert.equal((await stack.api.get('/sign/curto')).status, 404);
    assert.equal((await stack.api.post(`/api/public/signing/${tampered}/sign`, { body: { code: '123456', documentSha256: sha256('x'), accept: true } })).status, 404);

    // Two contracts at once: each token shows and signs only its own.
    const x = await contactWithLead(stack, t.tenantId, 'Xavier');
    const y = await contactWithLead(stack, t.tenantId, 'Yara');
    const cx = await postContract(t, { contactId: x.contactId, totalCents: 10, title: 'Contrato X', signers: [{ name: x.name, waId: x.waId }] });
    const cy = await postContract(t, { contactId: y.contactId, totalCents: 20, title: 'Contrato Y', signers: [{ name: y.name, waId: y.waId }] });
    const [tx, ty] = await Promise.all([linkFor(stack, x.waId), linkFor(stack, y.waId)]);
    assert.equal((await stack.api.get(`/api/public/signing/${tx}`)).body.contractTitle, 'Contrato X');
    assert.equal((await stack.api.get(`/api/public/signing/${ty}`)).body.contractTitle, 'Contrato Y');
    await signAs(stack, x.waId, tx);
    await untilStatus(stack, t.tenantId, cx.id, 'active');
    const yRow = await contractRow(stack, t.tenantId, cy.id);
    assert.equal(yRow.status, 'signing');
    const ySigners = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contractSigners').where({ contractId: cy.id }));
    assert.deepEqual(ySigners.map((s: { status: string }) => s.status), ['notified']);
    // X's signature recorded X's original hash, not Y's.
    const xSigner = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contractSigners').where({ contractId: cx.id }).first());
    assert.equal(xSigner.signedDocumentSha256, (await contractRow(stack, t.tenantId, cx.id)).originalSha256);
    assert.notEqual(xSigner.signedDocumentSha256, yRow.originalSha256);
  });

  it('codes: attempts run out and void the code; another code waits 30 s', async () => {
    const ana = await contactWithLead(stack, t.tenantId);
    await postContract(t, { contactId: ana.contactId, totalCents: 10, signers: [{ name: ana.name, waId: ana.waId }] });
    const token = await linkFor(stack, ana.waId);
    const sha = (await stack.api.get(`/api/public/signing/${token}`)).body.documentSha256 as string;
    assert.equal((await stack.api.post(`/api/public/signing/${token}/code`)).status, 200);
    const code = await codeOf(ana.waId);
    const sent = sentTemplates(stack, ana.waId, 'codigo_verificacao')[0];
    const components = (sent?.body.template as { components: unknown[] }).components;
    assert.deepEqual(components, [
      { type: 'body', parameters: [{ type: 'text', text: code }] },
      { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: code }] },
    ]);
    const wrongCode = code === '999999' ? '888888' : '999999';
    const lefts: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await stack.api.post(`/api/public/signing/${token}/sign`, { body: { code: wrongCode, documentSha256: sha, accept: true } });
      assert.equal(r.status, 422);
      lefts.push(r.body.errors[0].code);
    }
    assert.deepEqual(lefts, ['attempts_left:4', 'attempts_left:3', 'attempts_left:2', 'attempts_left:1', 'attempts_left:0']);
    const late = await stack.api.post(`/api/public/signing/${token}/sign`, { body: { code, documentSha256: sha, accept: true } });
    assert.equal(late.status, 422, 'the right code is void once the attempts ran out');
    const tooSoon = await stack.api.post(`/api/public/signing/${token}/code`);
    assert.equal(tooSoon.status, 429);
  });

  async function codeOf(waId: string): Promise<string> {
    const list = await until('a code', async () => {
      const l = sentTemplates(stack, waId, 'codigo_verificacao');
      return l.length > 0 && l;
    });
    const last = list.at(-1) as unknown as { body: { template: { components: { parameters: { text: string }[] }[] } } };
    return last.body.template.components[0]?.parameters[0]?.text as string;
  }
});

describe('contract signing clocks', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { WHATSAPP_PER_CUSTOMER_INTERVAL_MS: '0' } });
  });
  after(async () => stack.stop());

  it('reminds an unsigned signer, then expires with a notice; the link then answers 410', async () => {
    // A day of seconds: a reminder every ~2 s, the deadline at ~5 s.
    const t = await signingTenant(stack, { reminderEveryDays: 2 / 86_400, expiresAfterDays: 5 / 86_400 });
    const ana = await contactWithLead(stack, t.tenantId);
    const res = await stack.api.post('/api/contracts', { token: t.admin.token, body: { contactId: ana.contactId, totalCents: 10, signers: [{ name: ana.name, waId: ana.waId }] } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const first = await linkFor(stack, ana.waId);
    const reminded = await linkFor(stack, ana.waId, 'contrato_lembrete_assinatura');
    // A reminder carries a fresh link; the previous one is no longer known.
    assert.notEqual(reminded, first);
    assert.equal((await stack.api.get(`/api/public/signing/${first}`)).status, 404);
    await untilStatus(stack, t.tenantId, res.body.id, 'expired');
    await until('expiry notice', async () => sentTemplates(stack, ana.waId, 'contrato_prazo_encerrado')[0]);
    const latest = sentTemplates(stack, ana.waId, 'contrato_lembrete_assinatura').length;
    const token = await linkFor(stack, ana.waId, 'contrato_lembrete_assinatura', latest);
    const gone = await stack.api.get(`/api/public/signing/${token}`);
    assert.equal(gone.status, 410, JSON.stringify(gone.body));
    assert.match((await stack.api.get(`/sign/${token}`)).body, /Link expirado/);
    const workflowId = contractWorkflowId(t.tenantId, res.body.id);
    await stack.deps.temporal.client.workflow.getHandle(workflowId).result();
    await recordHistory(stack, workflowId, 'contract-reminded-expired');
  });

  it('a code past its TTL is refused even when right', async () => {
    const t = await signingTenant(stack, { codeTtlMinutes: 1 / 60 });
    const ana = await contactWithLead(stack, t.tenantId);
    const res = await stack.api.post('/api/contracts', { token: t.admin.token, body: { contactId: ana.contactId, totalCents: 10, signers: [{ name: ana.name, waId: ana.waId }] } });
    assert.equal(res.status, 201);
    const token = await linkFor(stack, ana.waId);
    const sha = (await stack.api.get(`/api/public/signing/${token}`)).body.documentSha256 as string;
    assert.equal((await stack.api.post(`/api/public/signing/${token}/code`)).status, 200);
    const m = await until('code', async () => sentTemplates(stack, ana.waId, 'codigo_verificacao')[0]);
    const code = (m.body.template as { components: { parameters: { text: string }[] }[] }).components[0]?.parameters[0]?.text;
    await until('code expired', () =>
      withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('contractSigners').where({ contractId: res.body.id }).where('codeExpiresAt', '<', new Date()).first()),
    );
    const late = await stack.api.post(`/api/public/signing/${token}/sign`, { body: { code, documentSha256: sha, accept: true } });
    assert.equal(late.status, 422);
    assert.match(late.body.detail, /Peça um código/);
  });

  it('a link past its own TTL answers 410', async () => {
    const t = await signingTenant(stack, { linkTtlHours: 1 / 3600 });
    const ana = await contactWithLead(stack, t.tenantId);
    const res = await stack.api.post('/api/contracts', { token: t.admin.token, body: { contactId: ana.contactId, totalCents: 10, signers: [{ name: ana.name, waId: ana.waId }] } });
    assert.equal(res.status, 201);
    const token = await linkFor(stack, ana.waId);
    const gone = await until('link expired', async () => {
      const r = await stack.api.get(`/api/public/signing/${token}`);
      return r.status === 410 && r;
    });
    assert.match(gone.body.detail, /expirou/);
  });
});

describe('contract billing hand-off', () => {
  let stack: TestStack;
  let handoffAttempts = 0;
  let realStart: ((a: { tenantId: string; contractId: string }) => Promise<{ status: string }>) | undefined;

  before(async () => {
    stack = await startStack({
      env: { WHATSAPP_PER_CUSTOMER_INTERVAL_MS: '0' },
      activityOverrides: {
        // Billing down on the first attempt: the workflow's retry policy brings it back.
        async startContractBilling(a) {
          handoffAttempts += 1;
          if (handoffAttempts === 1) throw new Error('billing unavailable (simulated)');
          return (realStart as NonNullable<typeof realStart>)(a);
        },
      },
    });
    realStart = contractActivities({ knex: stack.deps.knex, secrets: stack.deps.secrets, whatsapp: { baseUrl: '', apiVersion: '' } }).startContractBilling;
  });
  after(async () => stack.stop());

  it('a failed hand-off is retried; active for long, the workflow continues as new and a cancel still compensates', async () => {
    const t = await signingTenant(stack);
    const ana = await contactWithLead(stack, t.tenantId);
    const contract = await createContract(stack.deps, t.tenantId, { type: 'user', id: t.admin.id }, {
      contactId: ana.contactId,
      leadId: ana.leadId,
      totalCents: 990_00,
      billingTerms: { installments: 3 },
      signers: [{ name: ana.name, waId: ana.waId }],
      options: { activeWaitMs: 1_000 },
    });
    await signAs(stack, ana.waId, await linkFor(stack, ana.waId));
    await untilStatus(stack, t.tenantId, contract.id, 'active');
    assert.equal(handoffAttempts, 2);
    const handoff = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('billingHandoffs').where({ contractId: contract.id }).first());
    assert.equal(handoff.status, 'started');
    assert.deepEqual(handoff.terms, { installments: 3 });

    const workflowId = contractWorkflowId(t.tenantId, contract.id);
    const firstRun = (await stack.deps.temporal.client.workflow.getHandle(workflowId).describe()).runId;
    await until('continued as new', async () => (await stack.deps.temporal.client.workflow.getHandle(workflowId).describe()).runId !== firstRun);
    const cancelled = await stack.api.post(`/api/contracts/${contract.id}/cancel`, { token: t.admin.token, body: { reason: 'Rescisão' } });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    const compensated = await withTenant(stack.deps.knex, t.tenantId, async (trx) => trx('billingHandoffs').where({ contractId: contract.id }).first());
    assert.equal(compensated.status, 'cancelled');
    assert.ok(compensated.cancelledAt);
    await stack.deps.temporal.client.workflow.getHandle(workflowId).result();
    await recordHistory(stack, workflowId, 'contract-active-continued-cancelled');
  });
});

describe('contract signing history', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { WHATSAPP_PER_CUSTOMER_INTERVAL_MS: '0' } });
  });
  after(async () => stack.stop());

  it('a long signing continues as new, keeping who was notified, and still completes', async () => {
    const t = await signingTenant(stack);
    const ana = await contactWithLead(stack, t.tenantId);
    const contract = await createContract(stack.deps, t.tenantId, { type: 'user', id: t.admin.id }, {
      contactId: ana.contactId,
      totalCents: 100,
      signers: [{ name: ana.name, waId: ana.waId }],
      options: { reminderEveryMs: 3_000, maxHistoryEvents: 25 },
    });
    const handle = stack.deps.temporal.client.workflow.getHandle(contractWorkflowId(t.tenantId, contract.id));
    const firstRun = (await handle.describe()).runId;
    await until('continued as new while signing', async () => (await handle.describe()).runId !== firstRun, 30_000);
    // The new run knows the signer was notified: no second first-link, only reminders.
    assert.equal(sentTemplates(stack, ana.waId, 'contrato_assinatura').length, 1);
    const state = await until('resumed state', async () => {
      const s = await handle.query(contractSigningStateQuery);
      return s.phase === 'signing' && s;
    });
    assert.equal(state.signers[0]?.notified, true);
    // Sign with whatever link is current when the signer acts (a reminder replaces it).
    const currentLink = () =>
      until('a working link', async () => {
        const n = sentTemplates(stack, ana.waId, 'contrato_lembrete_assinatura').length;
        const token = n ? await linkFor(stack, ana.waId, 'contrato_lembrete_assinatura', n) : await linkFor(stack, ana.waId);
        const doc = await fetch(`${stack.baseUrl}/api/public/signing/${token}/document`);
        return doc.status === 200 && { token, sha: sha256(Buffer.from(await doc.arrayBuffer())) };
      });
    await until('signed', async () => {
      const { token, sha } = await currentLink();
      const code = await stack.api.post(`/api/public/signing/${token}/code`);
      if (code.status !== 200) return false;
      const list = sentTemplates(stack, ana.waId, 'codigo_verificacao');
      const text = (list.at(-1)?.body.template as { components: { parameters: { text: string }[] }[] }).components[0]?.parameters[0]?.text;
      const signed = await stack.api.post(`/api/public/signing/${token}/sign`, { body: { code: text, documentSha256: sha, accept: true } });
      return signed.status === 200;
    }, 90_000, 31_000);
    await untilStatus(stack, t.tenantId, contract.id, 'active');
    await recordHistory(stack, handle.workflowId, 'contract-signing-continued-signed');
  });
});

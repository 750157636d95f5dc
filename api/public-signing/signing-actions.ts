import { appendContractEvent } from '../../db/contract-evidence';
import { ContractSigner } from '../../db/models';
import { resolveContactId } from '../../db/contacts';
import { authenticationCodeComponents, isSignersTurn } from '../../domain/contract-signing';
import { sendToContact } from '../../activities/contact-messaging';
import { emitContractUpdated } from '../../activities/contracts';
import { signerDeclinedSignal, signerSignedSignal, signerViewedSignal, contractWorkflowId, type SignerSignal } from '../../workflows/contract-signing';
import type { SignalDefinition } from '@temporalio/common';
import type { ApiDeps } from '../deps';
import { HttpProblem, tooManyRequests } from '../problem';
import { callWorkflow } from '../workflow-calls';
import {
  assertCanAct,
  assertLinkUsable,
  codeHash,
  codeMatches,
  findSignerLink,
  loadLinkState,
  newCode,
  withLink,
  wrongCode,
  type SignerLink,
} from './signer-link';

// What a signer does through their link. Each action is recorded (with IP, user agent and time)
// in the signer's row and the contract's evidence chain, committed, and only then told to the
// workflow, which re-reads the signers: a signal lost to an outage is caught on its next wake.

export interface Client {
  ip: string;
  userAgent: string;
}

const CODE_RESEND_SECONDS = 30;

async function tellWorkflow(deps: ApiDeps, link: SignerLink, signal: SignalDefinition<[SignerSignal]>) {
  await emitContractUpdated(deps, link.tenantId, link.contractId);
  const handle = deps.temporal.client.workflow.getHandle(contractWorkflowId(link.tenantId, link.contractId));
  try {
    await callWorkflow(deps, () => handle.signal(signal, { signerId: link.signerId, at: new Date().toISOString() }));
  } catch (err) {
    deps.log.warn({ err, contractId: link.contractId }, 'signing workflow not told; it reads the signers on its next wake');
  }
}

export async function signingState(deps: ApiDeps, token: string) {
  const link = await findSignerLink(deps, token);
  const s = await withLink(deps, link, (trx) => loadLinkState(trx, link));
  assertLinkUsable(s);
  return {
    link,
    view: {
      contractTitle: s.contract.title,
      contractNumber: s.contract.number,
      contractStatus: s.contract.status,
      signerName: s.signer.name,
      signerStatus: s.signer.status,
      yourTurn:
        s.contract.status === 'signing' &&
        !['signed', 'declined'].includes(s.signer.status) &&
        isSignersTurn(s.contract.signingOrder, s.signers.map((x) => ({ id: x.id, position: x.position, status: x.status })), s.signer.id),
      documentSha256: s.original?.sha256 ?? null,
      linkExpiresAt: s.signer.linkExpiresAt?.toISOString() ?? null,
    },
  };
}

// The original PDF; the first view is recorded as evidence.
export async function viewDocument(deps: ApiDeps, token: string, client: Client): Promise<{ content: Buffer; sha256: string; number: number }> {
  const link = await findSignerLink(deps, token);
  const { doc, firstView, number } = await withLink(deps, link, async (trx) => {
    const s = await loadLinkState(trx, link, { lock: true });
    assertLinkUsable(s);
    const doc = await trx('contract_documents').where({ contractId: link.contractId, kind: 'original' }).first('content', 'sha256');
    if (!doc) throw new HttpProblem(404, 'Not Found', 'O documento ainda está sendo preparado. Tente novamente em instantes.');
    const firstView = !s.signer.viewedAt;
    if (firstView) {
      await ContractSigner.query(trx).patch({ viewedAt: new Date(), ...(s.signer.status === 'notified' ? { status: 'viewed' } : {}) }).where({ id: s.signer.id });
      await appendContractEvent(trx, { tenantId: link.tenantId, contractId: link.contractId, signerId: link.signerId, type: 'viewed', ip: client.ip, userAgent: client.userAgent, documentSha256: doc.sha256 });
    }
    return { doc: doc as { content: Buffer; sha256: string }, firstView, number: s.contract.number };
  });
  if (firstView) await tellWorkflow(deps, link, signerViewedSignal);
  return { content: doc.content, sha256: doc.sha256, number };
}

// A six-digit code through the tenant's WhatsApp authentication template (no URL in it).
export async function sendCode(deps: ApiDeps, token: string, client: Client): Promise<{ sent: boolean; expiresAt: string }> {
  const link = await findSignerLink(deps, token);
  const code = newCode();
  const prepared = await withLink(deps, link, async (trx) => {
    const s = await loadLinkState(trx, link, { lock: true });
    assertLinkUsable(s);
    assertCanAct(s);
    const now = new Date();
    if (s.signer.codeSentAt && now.getTime() - s.signer.codeSentAt.getTime() < CODE_RESEND_SECONDS * 1000) {
      throw tooManyRequests(CODE_RESEND_SECONDS - (now.getTime() - s.signer.codeSentAt.getTime()) / 1000, 'Aguarde alguns segundos antes de pedir outro código.');
    }
    const signing = s.settings.sales.signing;
    const expiresAt = new Date(now.getTime() + signing.codeTtlMinutes * 60_000);
    await ContractSigner.query(trx)
      .patch({ codeHash: codeHash(deps.config.JWT_SECRET, s.signer.id, code), codeExpiresAt: expiresAt, codeAttempts: 0, codeSentAt: now })
      .where({ id: s.signer.id });
    await appendContractEvent(trx, { tenantId: link.tenantId, contractId: link.contractId, signerId: link.signerId, type: 'code_sent', ip: client.ip, userAgent: client.userAgent, data: { template: signing.codeTemplate, expiresAt: expiresAt.toISOString() } });
    const contactId = await resolveContactId(trx, link.tenantId, { waId: s.signer.waId });
    return { contactId, template: signing.codeTemplate, expiresAt, sentAt: now };
  });
  const result = await callWorkflow(
    deps,
    () =>
      sendToContact({ ...deps, whatsapp: { perCustomerIntervalMs: deps.config.WHATSAPP_PER_CUSTOMER_INTERVAL_MS } }, {
        tenantId: link.tenantId,
        contactId: prepared.contactId,
        updateId: `${contractWorkflowId(link.tenantId, link.contractId)}:code:${link.signerId}:${prepared.sentAt.getTime()}`,
        content: { type: 'template', name: prepared.template, language: 'pt_BR', components: authenticationCodeComponents(code) },
      }),
    { deadlineMs: 15_000 },
  );
  if (result.status !== 'accepted') throw new HttpProblem(502, 'Bad Gateway', 'Não foi possível enviar o código pelo WhatsApp agora. Tente novamente em instantes.');
  return { sent: true, expiresAt: prepared.expiresAt.toISOString() };
}

export async function sign(deps: ApiDeps, token: string, body: { code: string; documentSha256: string }, client: Client) {
  const link = await findSignerLink(deps, token);
  const outcome = await withLink(deps, link, async (trx) => {
    const s = await loadLinkState(trx, link, { lock: true });
    assertLinkUsable(s);
    assertCanAct(s);
    const now = new Date();
    const max = s.settings.sales.signing.codeMaxAttempts;
    if (!s.signer.codeHash || !s.signer.codeExpiresAt || s.signer.codeExpiresAt <= now) {
      return { refused: new HttpProblem(422, 'Unprocessable Content', 'Peça um código e use-o dentro do prazo.', { type: 'urn:orquestra:signing:no-code', errors: [{ path: 'body.code', message: 'sem código válido', code: 'no_code' }] }) };
    }
    if (!codeMatches(deps.config.JWT_SECRET, s.signer.id, body.code, s.signer.codeHash)) {
      const attempts = s.signer.codeAttempts + 1;
      const left = Math.max(0, max - attempts);
      // Used up, the code is void: a new one must be asked for.
      await ContractSigner.query(trx).patch({ codeAttempts: attempts, ...(left === 0 ? { codeHash: null, codeExpiresAt: null } : {}) }).where({ id: s.signer.id });
      await appendContractEvent(trx, { tenantId: link.tenantId, contractId: link.contractId, signerId: link.signerId, type: 'code_failed', ip: client.ip, userAgent: client.userAgent, data: { attempts, attemptsLeft: left } });
      return { refused: wrongCode(left) };
    }
    if (!s.original || body.documentSha256 !== s.original.sha256) {
      throw new HttpProblem(409, 'Conflict', 'O documento que você viu não é a versão atual do contrato. Abra o documento novamente antes de assinar.');
    }
    await ContractSigner.query(trx)
      .patch({ status: 'signed', signedAt: now, signedIp: client.ip, signedUserAgent: client.userAgent, signedDocumentSha256: body.documentSha256, codeHash: null, codeExpiresAt: null })
      .where({ id: s.signer.id });
    await appendContractEvent(trx, { tenantId: link.tenantId, contractId: link.contractId, signerId: link.signerId, type: 'code_verified', ip: client.ip, userAgent: client.userAgent, data: { attempts: s.signer.codeAttempts + 1 } });
    await appendContractEvent(trx, { tenantId: link.tenantId, contractId: link.contractId, signerId: link.signerId, type: 'signed', ip: client.ip, userAgent: client.userAgent, documentSha256: body.documentSha256, data: { accepted: true, codeVerified: true } });
    return { signedAt: now };
  });
  // The failed attempt is committed before the refusal is answered.
  if ('refused' in outcome) throw outcome.refused;
  await tellWorkflow(deps, link, signerSignedSignal);
  return { signed: true as const, signedAt: outcome.signedAt.toISOString(), documentSha256: body.documentSha256 };
}

export async function decline(deps: ApiDeps, token: string, body: { reason: string }, client: Client) {
  const link = await findSignerLink(deps, token);
  await withLink(deps, link, async (trx) => {
    const s = await loadLinkState(trx, link, { lock: true });
    assertLinkUsable(s);
    assertCanAct(s);
    await ContractSigner.query(trx).patch({ status: 'declined', declinedAt: new Date(), declineReason: body.reason, codeHash: null }).where({ id: s.signer.id });
    await appendContractEvent(trx, { tenantId: link.tenantId, contractId: link.contractId, signerId: link.signerId, type: 'declined', ip: client.ip, userAgent: client.userAgent, documentSha256: s.original?.sha256 ?? null, data: { reason: body.reason } });
  });
  await tellWorkflow(deps, link, signerDeclinedSignal);
  return { declined: true as const };
}

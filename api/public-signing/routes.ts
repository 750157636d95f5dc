import type Koa from 'koa';
import { publicRoute } from '../route';
import { codeSentView, declineBody, declinedView, signBody, signedView, signingView } from './schema';
import { decline, sendCode, sign, signingState, viewDocument, type Client } from './signing-actions';
import { tokenParams } from './signer-link';

// The signer's side, without an account: the token in the link is the credential. Errors are
// problem+json in Portuguese: 404 unknown (or tampered) link, 410 expired, 409 used or not their
// turn, 422 wrong code.

export const clientOf = (ctx: Koa.Context): Client => ({ ip: ctx.ip, userAgent: (ctx.get('user-agent') || 'desconhecido').slice(0, 500) });

const errors = {
  404: { description: 'Unknown or tampered link' },
  409: { description: 'Already signed or declined, not this signer’s turn, contract no longer signing, or a different document' },
  410: { description: 'The link or the contract expired' },
};

export const publicSigningState = publicRoute({
  method: 'get',
  path: '/public/signing/:token',
  summary: 'What a signing link shows: the contract, the signer, the original’s SHA-256',
  tags: ['public'],
  params: tokenParams,
  responses: { 200: { description: 'The signing view', schema: signingView }, ...errors },
  async handler({ params, deps }) {
    return { body: (await signingState(deps, params.token)).view };
  },
});

export const publicSigningDocument = publicRoute({
  method: 'get',
  path: '/public/signing/:token/document',
  summary: 'The original PDF the signer signs (the first view is recorded with IP and user agent)',
  tags: ['public'],
  params: tokenParams,
  responses: { 200: { description: 'application/pdf' }, ...errors },
  async handler({ params, deps, koa }) {
    const doc = await viewDocument(deps, params.token, clientOf(koa));
    return {
      body: doc.content,
      headers: { 'content-type': 'application/pdf', 'content-disposition': `inline; filename="contrato-${doc.number}.pdf"`, 'x-document-sha256': doc.sha256 },
    };
  },
});

export const publicSigningCode = publicRoute({
  method: 'post',
  path: '/public/signing/:token/code',
  summary: 'Sends the signer a one-time code through the WhatsApp authentication template',
  tags: ['public'],
  params: tokenParams,
  responses: { 200: { description: 'Sent', schema: codeSentView }, 429: { description: 'At most one code every 30 s' }, ...errors },
  async handler({ params, deps, koa }) {
    return { body: await sendCode(deps, params.token, clientOf(koa)) };
  },
});

export const publicSigningSign = publicRoute({
  method: 'post',
  path: '/public/signing/:token/sign',
  summary: 'Signs: the code, the SHA-256 of the document seen, and the acceptance',
  tags: ['public'],
  params: tokenParams,
  body: signBody,
  responses: { 200: { description: 'Signed', schema: signedView }, 422: { description: 'Wrong or expired code (attempts left in the detail)' }, ...errors },
  async handler({ params, body, deps, koa }) {
    return { body: await sign(deps, params.token, body, clientOf(koa)) };
  },
});

export const publicSigningDecline = publicRoute({
  method: 'post',
  path: '/public/signing/:token/decline',
  summary: 'Declines to sign (one decline ends the contract’s signing)',
  tags: ['public'],
  params: tokenParams,
  body: declineBody,
  responses: { 200: { description: 'Declined', schema: declinedView }, ...errors },
  async handler({ params, body, deps, koa }) {
    return { body: await decline(deps, params.token, body, clientOf(koa)) };
  },
});

export const publicSigningRoutes = [publicSigningState, publicSigningDocument, publicSigningCode, publicSigningSign, publicSigningDecline];

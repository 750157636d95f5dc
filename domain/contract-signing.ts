import type { SignerStatus, SigningOrder } from './sales-statuses';

// Whose turn it is to sign, and when a contract's signing is over. Pure: the workflow, the public
// signing endpoints and the table tests read the same rules.

export interface SignerTurn {
  id: string;
  position: number;
  status: SignerStatus;
}

const done = (s: SignerTurn) => s.status === 'signed';

// Sequential: the signers of the lowest position not fully signed (several signers may share a
// position and sign in parallel among themselves); parallel: everyone not yet signed.
export function signersOnTurn(order: SigningOrder, signers: readonly SignerTurn[]): SignerTurn[] {
  const pending = signers.filter((s) => !done(s));
  if (order === 'parallel' || pending.length === 0) return pending;
  const first = Math.min(...pending.map((s) => s.position));
  return pending.filter((s) => s.position === first);
}

export function isSignersTurn(order: SigningOrder, signers: readonly SignerTurn[], signerId: string): boolean {
  return signersOnTurn(order, signers).some((s) => s.id === signerId);
}

export type SigningProgress = 'pending' | 'all_signed' | 'declined';

// One decline ends it.
export function signingProgress(signers: readonly SignerTurn[]): SigningProgress {
  if (signers.some((s) => s.status === 'declined')) return 'declined';
  if (signers.length > 0 && signers.every(done)) return 'all_signed';
  return 'pending';
}

// The utility templates a signer gets (links go outside the 24-hour window, so as templates; the
// code's authentication template carries no URL, per Meta, so the link is always its own message).
// Their approved bodies, with the parameters in order:
//   link:     "Olá, {{1}}! O contrato "{{2}}" está pronto para a sua assinatura. Leia e assine em {{3}}"
//   reminder: "Olá, {{1}}! Lembrete: o contrato "{{2}}" ainda aguarda a sua assinatura. Assine em {{3}}"
//   expired:  "Olá, {{1}}! O prazo para assinar o contrato "{{2}}" terminou e o link foi desativado."
export const SIGNING_TEMPLATES = {
  link: 'contrato_assinatura',
  reminder: 'contrato_lembrete_assinatura',
  expired: 'contrato_prazo_encerrado',
} as const;

export const signingUrl = (publicBaseUrl: string, token: string) => `${publicBaseUrl.replace(/\/+$/, '')}/sign/${token}`;

// Meta's copy-code authentication template: the code is the body's parameter and the button's.
export function authenticationCodeComponents(code: string): Record<string, unknown>[] {
  return [
    { type: 'body', parameters: [{ type: 'text', text: code }] },
    { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: code }] },
  ];
}

import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { Contract, ContractDocument, ContractSigner } from '../../db/models';
import { readTenantSettings } from '../../db/tenant-settings';
import { withTenant } from '../../db/tenant-scope';
import { isSignersTurn } from '../../domain/contract-signing';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../domain/tenant-settings';
import { sha256 } from '../../infra/secret-tokens';
import type { ApiDeps } from '../deps';
import { HttpProblem, notFound } from '../problem';

// A signer's link: the token (32 random bytes, base64url) is all the customer holds; only its
// SHA-256 is stored. The token names one signer, the signer one contract: a token reaches its own
// contract and nothing else, by construction.

export const signingToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'link de assinatura inválido');
export const tokenParams = z.object({ token: signingToken });

export const gone = (detail: string) => new HttpProblem(410, 'Gone', detail);
export const wrongCode = (attemptsLeft: number) =>
  new HttpProblem(
    422,
    'Unprocessable Content',
    attemptsLeft > 0
      ? `Código incorreto. Restam ${attemptsLeft} tentativa(s).`
      : 'Código incorreto. As tentativas acabaram: peça um novo código.',
    { type: 'urn:orquestra:signing:wrong-code', errors: [{ path: 'body.code', message: 'código incorreto', code: `attempts_left:${attemptsLeft}` }] },
  );

export const UNKNOWN_LINK = 'Link de assinatura não encontrado. Confira se o endereço está completo.';

export interface SignerLink {
  tenantId: string;
  signerId: string;
  contractId: string;
}

export async function findSignerLink(deps: Pick<ApiDeps, 'knex'>, token: string): Promise<SignerLink> {
  const hash = sha256(token);
  const { rows } = await deps.knex.raw('SELECT signer_id, contract_id, tenant_id FROM public_find_signer_link(?)', [hash]);
  const row = rows[0] as { signer_id: string; contract_id: string; tenant_id: string } | undefined;
  if (!row) throw notFound(UNKNOWN_LINK);
  return { tenantId: row.tenant_id, signerId: row.signer_id, contractId: row.contract_id };
}

export interface LinkState {
  signer: ContractSigner;
  contract: Contract;
  signers: ContractSigner[];
  original: Pick<ContractDocument, 'sha256'> | undefined;
  settings: TenantSettings;
}

export async function loadLinkState(trx: Knex.Transaction, link: SignerLink, opts: { lock?: boolean } = {}): Promise<LinkState> {
  const q = ContractSigner.query(trx).findById(link.signerId);
  const signer = await (opts.lock ? q.forUpdate() : q);
  const contract = await Contract.query(trx).findById(link.contractId);
  if (!signer || !contract) throw notFound(UNKNOWN_LINK);
  const signers = await ContractSigner.query(trx).where({ contractId: contract.id }).orderBy(['position', 'id']);
  const original = await ContractDocument.query(trx).where({ contractId: contract.id, kind: 'original' }).select('sha256').first();
  const settings = (await readTenantSettings(trx, link.tenantId))?.settings ?? DEFAULT_TENANT_SETTINGS;
  return { signer, contract, signers, original, settings };
}

// The link's own expiry, and the contract's end, are what make an otherwise valid link useless.
export function assertLinkUsable(s: LinkState, now = new Date()): void {
  if (s.signer.linkExpiresAt && s.signer.linkExpiresAt <= now) throw gone('Este link de assinatura expirou. Peça um novo link à empresa.');
  if (s.contract.status === 'expired') throw gone('O prazo para assinar este contrato terminou.');
}

export function assertCanAct(s: LinkState): void {
  if (s.signer.status === 'signed') throw new HttpProblem(409, 'Conflict', 'Você já assinou este contrato. Este link não pode ser usado novamente.');
  if (s.signer.status === 'declined') throw new HttpProblem(409, 'Conflict', 'Você recusou este contrato.');
  if (s.contract.status !== 'signing') throw new HttpProblem(409, 'Conflict', 'Este contrato não está mais aguardando assinaturas.');
  if (!isSignersTurn(s.contract.signingOrder, s.signers.map((x) => ({ id: x.id, position: x.position, status: x.status })), s.signer.id)) {
    throw new HttpProblem(409, 'Conflict', 'Ainda não é a sua vez de assinar este contrato.');
  }
}

export function withLink<T>(deps: Pick<ApiDeps, 'knex'>, link: SignerLink, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return withTenant(deps.knex, link.tenantId, work);
}

// The one-time code: six digits, kept as an HMAC under the server's secret.
export const newCode = () => String(randomInt(0, 1_000_000)).padStart(6, '0');
export const codeHash = (secret: string, signerId: string, code: string) => createHmac('sha256', secret).update(`${signerId}:${code}`).digest('hex');
export function codeMatches(secret: string, signerId: string, code: string, stored: string): boolean {
  const a = Buffer.from(codeHash(secret, signerId, code), 'hex');
  const b = Buffer.from(stored, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

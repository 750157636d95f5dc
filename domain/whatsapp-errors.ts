import { backoffSeconds } from './pacing';

// What to do when the Graph API refuses a send (in the HTTP response or in a `failed` status
// webhook): retry later, retry now-ish, switch to a template, fix the credentials, or give up.
// Meta's error `code` is the reliable signal; the HTTP status only decides when the code is
// missing or unknown.

export const SEND_ERROR_KINDS = ['throttled', 'transient', 'window_closed', 'permanent', 'auth'] as const;
export type SendErrorKind = (typeof SEND_ERROR_KINDS)[number];

export interface SendErrorClassification {
  kind: SendErrorKind;
  // Throttled: how long to wait before the next try. Permanent 131049: how long not to resend.
  retryAfterSeconds?: number;
  reason: string; // pt-BR, shown to the attendant
}

const THROTTLED_RETRY = 'a mensagem será reenviada automaticamente em instantes.';
const TRANSIENT_RETRY = 'uma nova tentativa será feita automaticamente.';
const WINDOW_CLOSED = 'Fora da janela de 24 horas: só é possível enviar um modelo (template) aprovado.';
const AUTH = 'O acesso à conta do WhatsApp expirou ou foi revogado: um administrador precisa reconectar o número.';
const HELD_FOR_24H_SECONDS = 24 * 60 * 60;

const BY_CODE: Record<number, Omit<SendErrorClassification, 'retryAfterSeconds'>> = {
  // Throughput and rate limits.
  4: { kind: 'throttled', reason: `Muitas chamadas à API do WhatsApp em pouco tempo; ${THROTTLED_RETRY}` },
  80007: { kind: 'throttled', reason: `Limite de uso da conta do WhatsApp Business atingido; ${THROTTLED_RETRY}` },
  130429: { kind: 'throttled', reason: `Limite de mensagens por segundo do número atingido; ${THROTTLED_RETRY}` },
  131056: { kind: 'throttled', reason: `Muitas mensagens para este cliente em pouco tempo; ${THROTTLED_RETRY}` },
  131048: {
    kind: 'throttled',
    reason: 'Envio limitado pelo WhatsApp por suspeita de spam (mensagens bloqueadas ou denunciadas); aguarde antes de reenviar.',
  },
  // Meta-side failures.
  1: { kind: 'transient', reason: `Erro desconhecido na API do WhatsApp; ${TRANSIENT_RETRY}` },
  2: { kind: 'transient', reason: `Serviço do WhatsApp temporariamente indisponível; ${TRANSIENT_RETRY}` },
  131000: { kind: 'transient', reason: `Falha inesperada no WhatsApp ao enviar a mensagem; ${TRANSIENT_RETRY}` },
  133004: { kind: 'transient', reason: `Servidor do WhatsApp temporariamente indisponível; ${TRANSIENT_RETRY}` },
  // Customer-service window; 470 is the pre-v2 code for the same thing.
  131047: { kind: 'window_closed', reason: WINDOW_CLOSED },
  470: { kind: 'window_closed', reason: WINDOW_CLOSED },
  // Credentials: 190 expired or revoked token; 0 and 10 the app cannot authenticate or lacks the permission.
  190: { kind: 'auth', reason: AUTH },
  0: { kind: 'auth', reason: AUTH },
  10: { kind: 'auth', reason: 'O aplicativo não tem permissão para enviar por este número: um administrador precisa revisar a conexão.' },
  // Resending the same message cannot succeed.
  131026: {
    kind: 'permanent',
    reason: 'Mensagem não entregue: o número pode não usar WhatsApp, ter bloqueado a empresa ou estar com o aplicativo desatualizado.',
  },
  131049: {
    kind: 'permanent',
    reason: 'O WhatsApp reteve a mensagem para preservar a experiência do cliente; não reenvie nas próximas 24 horas.',
  },
  131051: { kind: 'permanent', reason: 'Tipo de mensagem não suportado pelo WhatsApp.' },
  131052: { kind: 'permanent', reason: 'Não foi possível baixar a mídia enviada pelo cliente.' },
  131053: { kind: 'permanent', reason: 'Falha ao enviar a mídia: o arquivo está inacessível, em formato não suportado ou grande demais.' },
  132000: { kind: 'permanent', reason: 'O número de parâmetros não corresponde ao do modelo (template) aprovado.' },
  132001: { kind: 'permanent', reason: 'O modelo (template) não existe neste idioma ou ainda não foi aprovado.' },
  132015: { kind: 'permanent', reason: 'O modelo (template) foi pausado pela Meta por baixa qualidade.' },
  132016: { kind: 'permanent', reason: 'O modelo (template) foi desativado pela Meta por baixa qualidade.' },
  131008: { kind: 'permanent', reason: 'Falta um parâmetro obrigatório na mensagem.' },
  131009: { kind: 'permanent', reason: 'Um dos parâmetros da mensagem tem valor inválido.' },
  100: { kind: 'permanent', reason: 'Parâmetro inválido na requisição ao WhatsApp.' },
};

function byHttpStatus(httpStatus: number, code: number | undefined): Omit<SendErrorClassification, 'retryAfterSeconds'> {
  if (httpStatus === 429) return { kind: 'throttled', reason: `Limite de envio do WhatsApp atingido; ${THROTTLED_RETRY}` };
  if (httpStatus === 401) return { kind: 'auth', reason: AUTH };
  if (httpStatus >= 500) return { kind: 'transient', reason: `O WhatsApp está instável; ${TRANSIENT_RETRY}` };
  // Any other 4xx, or a webhook `failed` with an unknown code (no HTTP status): retrying blindly
  // would repeat the same refusal.
  const ref = code !== undefined ? `código ${code}` : `HTTP ${httpStatus}`;
  return { kind: 'permanent', reason: `O WhatsApp recusou a mensagem (${ref}).` };
}

// `attempt` (1 for the first retry) sizes the wait of throttled errors.
export function classifySendError(httpStatus: number, code?: number, attempt = 1): SendErrorClassification {
  const known = code !== undefined ? BY_CODE[code] : undefined;
  const base = known ?? byHttpStatus(httpStatus, code);
  if (base.kind === 'throttled') return { ...base, retryAfterSeconds: backoffSeconds(attempt) };
  if (code === 131049) return { ...base, retryAfterSeconds: HELD_FOR_24H_SECONDS };
  return { ...base };
}

export function isRetryable(kind: SendErrorKind): boolean {
  return kind === 'throttled' || kind === 'transient';
}

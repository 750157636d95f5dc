import type { Config } from '../../infra/config';
import { HashingGate, PasswordCheckBusy, verifyPassword } from '../../infra/passwords';
import type { BackoffPolicy, RateLimits } from '../../infra/rate-limits';
import { tooManyRequests } from '../problem';

// What stands between a login attempt and Argon2, cheapest first:
//   an account backing off (consecutive failures from any IPs) is refused before anything is spent;
//   the IP and e-mail pair (RATE_LIMIT_LOGIN_POINTS), the IP across e-mails (failures only) and the
//   platform's global rate are spent up front, so concurrent attempts cannot share one free point;
//   then the password is checked through this process's gate (bounded concurrency and queue).
// Unknown e-mails go through every step alike, so neither the answers nor their timing tell which
// addresses have accounts.

const FORGET_FAILURES_AFTER_SECONDS = 24 * 60 * 60;

const gates = new WeakMap<Config, HashingGate>();

function gateFor(config: Config): HashingGate {
  let gate = gates.get(config);
  if (!gate) {
    gate = new HashingGate(config.PASSWORD_VERIFY_CONCURRENCY, config.PASSWORD_VERIFY_QUEUE);
    gates.set(config, gate);
  }
  return gate;
}

export function accountBackoff(config: Config): BackoffPolicy {
  return {
    freeFailures: config.RATE_LIMIT_LOGIN_ACCOUNT_FREE_FAILURES,
    baseSeconds: config.RATE_LIMIT_LOGIN_ACCOUNT_BACKOFF_SECONDS,
    maxSeconds: config.RATE_LIMIT_LOGIN_ACCOUNT_MAX_BACKOFF_SECONDS,
    forgetAfterSeconds: FORGET_FAILURES_AFTER_SECONDS,
  };
}

const minutes = (seconds: number) => Math.max(1, Math.ceil(seconds / 60));

// A password check outside login (a password change): the same gate, without the login limits.
export async function checkPassword(config: Config, passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verifyPassword(passwordHash, password, { gate: gateFor(config) });
  } catch (err) {
    if (err instanceof PasswordCheckBusy) throw tooManyRequests(1, 'O serviço está sobrecarregado no momento. Tente novamente em instantes.');
    throw err;
  }
}

export interface LoginGuard {
  // Checks the password (null hash: unknown e-mail) behind every limit; throws 429 when one is hit.
  verify(passwordHash: string | null, password: string): Promise<boolean>;
  failed(): Promise<void>;
  succeeded(): Promise<void>;
}

export async function guardLogin(deps: { config: Config; rateLimits: RateLimits }, ip: string, email: string): Promise<LoginGuard> {
  const { config, rateLimits } = deps;
  const window = config.RATE_LIMIT_LOGIN_WINDOW_SECONDS;
  const pairKey = `${ip}|${email}`;
  const backoff = accountBackoff(config);

  const blocked = await rateLimits.backoffBlocked('login-account', email, backoff);
  if (!blocked.allowed) {
    throw tooManyRequests(
      blocked.retryAfterSeconds,
      `Muitas tentativas de login sem sucesso nesta conta. Aguarde ${minutes(blocked.retryAfterSeconds)} minuto(s) e tente novamente.`,
    );
  }
  const pair = await rateLimits.consume('login', pairKey, config.RATE_LIMIT_LOGIN_POINTS, window);
  if (!pair.allowed) throw tooManyRequests(pair.retryAfterSeconds, 'Muitas tentativas de login. Aguarde alguns minutos e tente novamente.');
  const perIp = await rateLimits.consume('login-ip', ip, config.RATE_LIMIT_LOGIN_IP_POINTS, window);
  if (!perIp.allowed) {
    throw tooManyRequests(perIp.retryAfterSeconds, 'Muitas tentativas de login a partir deste endereço. Aguarde alguns minutos e tente novamente.');
  }
  const global = await rateLimits.consume('login-global', 'all', config.RATE_LIMIT_LOGIN_GLOBAL_PER_MINUTE, 60);
  if (!global.allowed) throw tooManyRequests(global.retryAfterSeconds, 'O login está sobrecarregado no momento. Tente novamente em instantes.');

  return {
    async verify(passwordHash, password) {
      try {
        return await verifyPassword(passwordHash, password, { gate: gateFor(config) });
      } catch (err) {
        if (err instanceof PasswordCheckBusy) {
          // Turned away unchecked: the attempt does not count against the person.
          await rateLimits.reward('login', pairKey, config.RATE_LIMIT_LOGIN_POINTS, window);
          await rateLimits.reward('login-ip', ip, config.RATE_LIMIT_LOGIN_IP_POINTS, window);
          throw tooManyRequests(1, 'O login está sobrecarregado no momento. Tente novamente em instantes.');
        }
        throw err;
      }
    },
    async failed() {
      await rateLimits.recordFailure('login-account', email, backoff);
    },
    async succeeded() {
      await rateLimits.reset('login', pairKey, config.RATE_LIMIT_LOGIN_POINTS, window);
      await rateLimits.reward('login-ip', ip, config.RATE_LIMIT_LOGIN_IP_POINTS, window);
      await rateLimits.clearFailures('login-account', email, backoff);
    },
  };
}

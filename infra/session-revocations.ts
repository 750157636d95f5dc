import type Redis from 'ioredis';

export interface RevocationSubscription {
  // Settles once the subscription first holds; until then a revocation may go unannounced.
  ready: Promise<void>;
  close(): Promise<void>;
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

// Access tokens are stateless for 8 hours; a logout, a detected refresh-token reuse or a
// deactivated user must end them sooner. Each token carries its session id; revoked sessions
// are remembered until the last token they issued has expired, and announced so that open
// sockets of the session are disconnected (api/realtime/socket-server.ts).
export class SessionRevocations {
  private readonly memory = new Map<string, number>();
  private readonly listeners = new Set<(sessionId: string) => void>();
  private readonly unstored = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = RETRY_MIN_MS;

  constructor(
    private readonly redis: Redis | null,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  async revoke(sessionId: string): Promise<void> {
    if (this.redis) {
      try {
        await this.redis.set(this.key(sessionId), '1', 'EX', this.ttlSeconds);
      } catch {
        // Redis briefly away (the session's refresh tokens are already revoked in Postgres): this
        // process refuses the session at once, and the write is retried until it lands, so every
        // instance refuses it once Redis is back. Only a crash of this process meanwhile loses it.
        this.memory.set(sessionId, Date.now() + this.ttlSeconds * 1000);
        this.unstored.add(sessionId);
        this.scheduleRetry();
        // This instance's sockets of the session close now; the others' once the write lands.
        this.notifyLocal(sessionId);
        return;
      }
    } else {
      this.memory.set(sessionId, Date.now() + this.ttlSeconds * 1000);
    }
    await this.announce(sessionId);
  }

  // Revocations Redis has not taken yet; for tests and /ready-style checks.
  get pendingWrites(): number {
    return this.unstored.size;
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => void this.retryUnstored(), this.retryDelayMs);
    this.retryTimer.unref();
  }

  private async retryUnstored(): Promise<void> {
    this.retryTimer = undefined;
    const redis = this.redis as Redis;
    for (const sessionId of [...this.unstored]) {
      const leftMs = (this.memory.get(sessionId) ?? 0) - Date.now();
      if (leftMs <= 0) {
        // Every token the session issued has expired: nothing left to refuse.
        this.unstored.delete(sessionId);
        this.memory.delete(sessionId);
        continue;
      }
      try {
        await redis.set(this.key(sessionId), '1', 'EX', Math.ceil(leftMs / 1000));
      } catch {
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, RETRY_MAX_MS);
        this.scheduleRetry();
        return;
      }
      this.unstored.delete(sessionId);
      await this.announce(sessionId);
    }
    this.retryDelayMs = RETRY_MIN_MS;
  }

  // Open sockets of the session close at once, on every API instance. Best effort: the revocation
  // itself is recorded above, and the socket servers also sweep for revoked sessions they missed.
  private async announce(sessionId: string): Promise<void> {
    if (!this.redis) return this.notifyLocal(sessionId);
    await this.redis.publish(this.channel, sessionId).catch(() => {});
  }

  private notifyLocal(sessionId: string): void {
    for (const listener of this.listeners) {
      try {
        listener(sessionId);
      } catch {
        // A listener's failure is its own; the revocation stands.
      }
    }
  }

  // Tells `onRevoked` about every session revoked from now on, in any process sharing this Redis
  // (in memory: in this process). Pub/sub keeps nothing for a disconnected subscriber, so
  // `onGap` runs after each reconnection: what was revoked meanwhile must be looked up.
  subscribe(handlers: { onRevoked(sessionId: string): void; onGap?(): void; onError?(err: Error): void }): RevocationSubscription {
    // Also told directly, for what this process revokes while Redis is away.
    this.listeners.add(handlers.onRevoked);
    if (!this.redis) return { ready: Promise.resolve(), close: async () => void this.listeners.delete(handlers.onRevoked) };
    // A connection in subscriber mode can run nothing else: a dedicated one.
    const sub = this.redis.duplicate({ autoResubscribe: false, lazyConnect: true });
    let subscribedOnce = false;
    let resolveReady!: () => void;
    const ready = new Promise<void>((resolve) => (resolveReady = resolve));
    sub.on('error', (err: Error) => handlers.onError?.(err));
    sub.on('message', (channel: string, sessionId: string) => {
      if (channel === this.channel) handlers.onRevoked(sessionId);
    });
    // Subscribed on every (re)connection rather than by ioredis's auto-resubscribe, which gives
    // up on a subscription whose first attempt failed.
    sub.on('ready', () => {
      sub.subscribe(this.channel).then(
        () => {
          if (subscribedOnce) handlers.onGap?.();
          subscribedOnce = true;
          resolveReady();
        },
        (err: Error) => handlers.onError?.(err),
      );
    });
    sub.connect().catch(() => {});
    return {
      ready,
      close: async () => {
        this.listeners.delete(handlers.onRevoked);
        sub.removeAllListeners('ready');
        if (sub.status === 'ready') await sub.quit().catch(() => {});
        if (sub.status !== 'end') sub.disconnect();
      },
    };
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    // What this process revoked while Redis was away counts first (kept until the tokens expire).
    const until = this.memory.get(sessionId);
    if (until !== undefined && until < Date.now()) this.memory.delete(sessionId);
    else if (until !== undefined) return true;
    if (this.redis) return (await this.redis.exists(this.key(sessionId))) === 1;
    return false;
  }

  private get channel() {
    return `${this.prefix}session-revoked`;
  }

  private key(sessionId: string) {
    return `${this.prefix}revoked-session:${sessionId}`;
  }
}

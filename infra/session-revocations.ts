import type Redis from 'ioredis';

// Access tokens are stateless for 8 hours; a logout, a detected refresh-token reuse or a
// deactivated user must end them sooner. Each token carries its session id; revoked sessions
// are remembered until the last token they issued has expired.
export class SessionRevocations {
  private readonly memory = new Map<string, number>();

  constructor(
    private readonly redis: Redis | null,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  async revoke(sessionId: string): Promise<void> {
    if (this.redis) {
      await this.redis.set(this.key(sessionId), '1', 'EX', this.ttlSeconds);
    } else {
      this.memory.set(sessionId, Date.now() + this.ttlSeconds * 1000);
    }
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    if (this.redis) return (await this.redis.exists(this.key(sessionId))) === 1;
    const until = this.memory.get(sessionId);
    if (until === undefined) return false;
    if (until < Date.now()) {
      this.memory.delete(sessionId);
      return false;
    }
    return true;
  }

  private key(sessionId: string) {
    return `${this.prefix}revoked-session:${sessionId}`;
  }
}

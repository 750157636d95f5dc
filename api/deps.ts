import type { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type Redis from 'ioredis';
import type { Knex } from 'knex';
import type { Config } from '../infra/config';
import type { Logger } from '../infra/logger';
import type { RateLimits } from '../infra/rate-limits';
import type { RealtimeEmitter } from '../infra/realtime-emitter';
import type { SecretBox } from '../infra/secret-box';
import type { SessionRevocations } from '../infra/session-revocations';
import type { Sessions } from './auth/sessions';
import type { AccessTokens } from './auth/tokens';
import type { HttpMetrics } from './metrics';

// Everything a route handler may reach. Built once per process by server.ts (or by a test).
export interface ApiDeps {
  config: Config;
  log: Logger;
  knex: Knex;
  temporal: { client: Client; connection: Connection; namespace: string; taskQueue: string };
  redis: Redis | null;
  rateLimits: RateLimits;
  revocations: SessionRevocations;
  accessTokens: AccessTokens;
  sessions: Sessions;
  secrets: SecretBox;
  metrics: HttpMetrics;
  // Live events for dashboards, through Redis so every API instance delivers them.
  realtime: RealtimeEmitter;
  // Seals and opens Temporal payloads (infra/payload-codec.ts); the client uses it, and so does
  // the codec server the Web UI reads histories through.
  payloadCodec: PayloadCodec;
}

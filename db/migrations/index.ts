import type { Knex } from 'knex';
import { platformCore } from './001_platform_core';
import { conversations } from './002_conversations';
import { sales } from './003_sales';
import { billing } from './004_billing';
import { consortium } from './005_consortium';
import { staffMfa } from './006_staff_mfa';
import { sessions } from './007_sessions';
import { opsIndexes } from './008_ops_indexes';
import { payloadDataKeys } from './009_payload_data_keys';
import { dataSubjectRequests } from './010_data_subject_requests';
import type { MigrationRoles } from './rls';

export interface Migration {
  name: string;
  up(knex: Knex, roles: MigrationRoles): Promise<void>;
}

// Listed explicitly (not read from disk) so migrations run the same under tsx, a bundle or a test.
export const migrations: Migration[] = [platformCore, conversations, sales, billing, consortium, staffMfa, sessions, opsIndexes, payloadDataKeys, dataSubjectRequests];

import { Model } from 'objection';

// A staff member's second factor (migration 006): the sealed TOTP secret once confirmed, the one
// being enrolled, the last time step accepted and the hashes of the unused recovery codes.
export class UserMfa extends Model {
  static override tableName = 'user_mfa';
  static override idColumn = 'userId';
  userId!: string;
  tenantId!: string | null;
  secretSealed!: string | null;
  enabledAt!: Date | null;
  // bigint: pg hands it over as a string.
  lastUsedStep!: string | null;
  pendingSecretSealed!: string | null;
  pendingSince!: Date | null;
  recoveryCodeHashes!: string[];
  updatedAt!: Date;
}

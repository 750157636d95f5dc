import { Model } from 'objection';

// What the AI assistant answers from: the tenant's FAQ and its own AI settings.

export class FaqEntry extends Model {
  static override tableName = 'faq_entries';
  id!: string;
  tenantId!: string;
  question!: string;
  answer!: string;
  keywords!: string[];
  position!: number;
  createdAt!: Date;
}

export class AiSettingsRow extends Model {
  static override tableName = 'ai_settings';
  static override idColumn = 'tenantId';
  tenantId!: string;
  apiKeySealed!: string | null;
  baseUrl!: string | null;
  model!: string | null;
  systemPrompt!: string | null;
  enabled!: boolean;
  updatedAt!: Date;
}

import { Model } from 'objection';

// Where a tenant's automations want signed events posted.

export class AutomationEndpoint extends Model {
  static override tableName = 'automation_endpoints';
  static override idColumn = 'tenantId';
  tenantId!: string;
  url!: string;
  secretSealed!: string;
  events!: string[];
  active!: boolean;
  updatedAt!: Date;
}

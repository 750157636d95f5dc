import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

// What operations filter on in the Web UI and `temporal workflow list --query`:
//   OrquestraTenantId = '<uuid>' AND OrquestraEntityType = 'tenant'
// Ids only: search attributes are never encrypted, so no names, phones or e-mails go here.
export const TenantIdKey = defineSearchAttributeKey('OrquestraTenantId', SearchAttributeType.KEYWORD);
export const EntityTypeKey = defineSearchAttributeKey('OrquestraEntityType', SearchAttributeType.KEYWORD);
export const EntityIdKey = defineSearchAttributeKey('OrquestraEntityId', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [TenantIdKey, EntityTypeKey, EntityIdKey];

export function entitySearchAttributes(tenantId: string, entityType: string, entityId: string): SearchAttributePair[] {
  return [
    { key: TenantIdKey, value: tenantId },
    { key: EntityTypeKey, value: entityType },
    { key: EntityIdKey, value: entityId },
  ];
}

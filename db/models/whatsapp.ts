import { Model } from 'objection';

// The WhatsApp numbers a tenant brings and the Meta app that signs their webhooks.

export class WhatsAppChannel extends Model {
  static override tableName = 'whatsapp_channels';
  id!: string;
  tenantId!: string;
  phoneNumberId!: string;
  wabaId!: string;
  displayPhoneNumber!: string | null;
  verifiedName!: string | null;
  accessTokenSealed!: string;
  metaAppId!: string | null;
  verifiedAt!: Date | null;
  createdAt!: Date;
}

export class MetaApp extends Model {
  static override tableName = 'meta_apps';
  id!: string;
  tenantId!: string;
  appId!: string;
  appSecretSealed!: string;
  verifyTokenSealed!: string;
  createdAt!: Date;
  updatedAt!: Date;
}

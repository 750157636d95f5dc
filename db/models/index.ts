// The objection models, one file per area; `import { X } from '../db/models'` reads them all.
export * from './platform';
export * from './conversations';
export * from './whatsapp';
export * from './assistant';
export * from './automations';
export * from './sales';
export * from './billing';
export * from './consortium';
export * from './mfa';
export * from './privacy';

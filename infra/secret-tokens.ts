import { createHash, randomBytes } from 'node:crypto';

// Bearer secrets (refresh tokens, API keys, form keys, proposal and signing links) are random
// 256-bit values: a fast hash is enough to store them (there is nothing to brute-force).
export const newSecret = () => randomBytes(32).toString('base64url');
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { MediaFile, Message, WhatsAppChannel } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import type { InboundMedia } from '../domain/whatsapp-messages';
import type { ActivityDeps } from './deps';

// A guest's photo, voice note or document, fetched as soon as it arrives: Meta's media id lives
// 7 days and the download URL 5 minutes, so both steps run in one attempt. Files are stored by
// tenant and content hash; the hash Meta announced is checked before anything is kept.

export function mediaActivities({ knex, secrets, whatsapp, mediaDir }: ActivityDeps) {
  const base = `${whatsapp.baseUrl.replace(/\/$/, '')}/${whatsapp.apiVersion}`;
  const root = mediaDir ?? '.data/media';

  async function get(url: string, token: string): Promise<Response> {
    try {
      return await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(whatsapp.timeoutMs ?? 30_000) });
    } catch (err) {
      throw new Error(`Graph API unreachable: ${(err as Error).message}`);
    }
  }

  return {
    async downloadMedia(a: { tenantId: string; channelId: string; messageId: string; media: InboundMedia }): Promise<{ mediaId: string }> {
      const channel = await withTenant(knex, a.tenantId, async (trx) => {
        const known = await MediaFile.query(trx).findOne({ metaMediaId: a.media.mediaId });
        if (known) {
          await Message.query(trx).findById(a.messageId).patch({ mediaId: known.id });
          return { knownId: known.id };
        }
        return { knownId: null, channel: await WhatsAppChannel.query(trx).findById(a.channelId).throwIfNotFound() };
      });
      if (channel.knownId) return { mediaId: channel.knownId };
      const token = secrets.open(channel.channel!.accessTokenSealed);

      const info = await get(`${base}/${encodeURIComponent(a.media.mediaId)}`, token);
      const meta = (await info.json().catch(() => ({}))) as { url?: string; mime_type?: string; sha256?: string; error?: { code?: number; message?: string } };
      if (!info.ok || !meta.url) {
        if (info.status === 429 || info.status >= 500) throw new Error(`media lookup HTTP ${info.status}`);
        throw ApplicationFailure.nonRetryable(`media ${a.media.mediaId} unavailable: ${meta.error?.message ?? `HTTP ${info.status}`}`, 'MediaUnavailable');
      }
      const file = await get(meta.url, token);
      if (!file.ok) throw new Error(`media download HTTP ${file.status}`); // a fresh URL on the next attempt
      const bytes = Buffer.from(await file.arrayBuffer());
      const digest = createHash('sha256').update(bytes);
      const sha256 = digest.copy().digest('hex');
      // Meta's examples show the hash in hex and in base64; either must match.
      const expected = meta.sha256 ?? a.media.sha256;
      if (expected && expected.toLowerCase() !== sha256 && expected !== digest.digest('base64')) {
        throw new Error(`media ${a.media.mediaId} hash mismatch`);
      }

      const storageKey = join(a.tenantId, sha256);
      await mkdir(join(root, a.tenantId), { recursive: true });
      await writeFile(join(root, storageKey), bytes);
      return withTenant(knex, a.tenantId, async (trx) => {
        const [row] = await trx('media')
          .insert({
            id: knex.raw('gen_random_uuid()'), tenantId: a.tenantId, metaMediaId: a.media.mediaId,
            mimeType: meta.mime_type ?? a.media.mimeType, sha256, sizeBytes: bytes.length,
            filename: a.media.filename ?? null, storageKey,
          })
          .onConflict(['tenantId', 'metaMediaId'])
          .merge(['sha256'])
          .returning('id');
        await Message.query(trx).findById(a.messageId).patch({ mediaId: row.id });
        return { mediaId: row.id as string };
      });
    },
  };
}

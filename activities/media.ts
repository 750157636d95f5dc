import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ApplicationFailure } from '@temporalio/activity';
import { MediaFile, Message, WhatsAppChannel } from '../db/models';
import { withTenant } from '../db/tenant-scope';
import type { InboundMedia } from '../domain/whatsapp-messages';
import { hostMatches } from '../infra/outbound-guard';
import type { ActivityDeps } from './deps';
import { callSignal } from './call-signal';

// A guest's photo, voice note or document, fetched as soon as it arrives: Meta's media id lives
// 7 days and the download URL 5 minutes, so both steps run in one attempt. Files are stored by
// tenant and content hash; the hash Meta announced is checked before anything is kept.
//
// The download URL comes in a response body, so it is only followed to Meta's media hosts over
// https (or the platform's own Graph API origin, the sandbox locally), never through a redirect,
// and the body is streamed to disk under a byte cap: a bigger file is cut off, not buffered.

export const META_MEDIA_HOSTS = ['lookaside.fbsbx.com', '*.fbcdn.net', 'graph.facebook.com'];
const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;
// A document of Meta's largest size over a slow link; the activity's own timeout is 2 minutes.
const DOWNLOAD_TIMEOUT_MS = 100_000;

const refused = (why: string) => ApplicationFailure.nonRetryable(why, 'MediaRefused');
const tooLarge = (mediaId: string, maxBytes: number) => ApplicationFailure.nonRetryable(`media ${mediaId} is larger than ${maxBytes} bytes`, 'MediaTooLarge');

export function mediaActivities({ knex, secrets, whatsapp, mediaDir, media }: ActivityDeps) {
  const base = `${whatsapp.baseUrl.replace(/\/$/, '')}/${whatsapp.apiVersion}`;
  const graphOrigin = new URL(whatsapp.baseUrl).origin;
  const hosts = media?.hosts ?? META_MEDIA_HOSTS;
  const maxBytes = media?.maxBytes ?? DEFAULT_MAX_BYTES;
  const root = mediaDir ?? '.data/media';

  function downloadUrlAllowed(raw: string): boolean {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return false;
    }
    if (url.origin === graphOrigin) return true;
    return url.protocol === 'https:' && (url.port === '' || url.port === '443') && hostMatches(url.hostname, hosts);
  }

  async function get(url: string, token: string, timeoutMs: number): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${token}` },
        redirect: 'manual',
        signal: callSignal(timeoutMs),
      });
    } catch (err) {
      throw new Error(`Graph API unreachable: ${(err as Error).message}`);
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => {});
      throw refused(`media request to ${new URL(url).host} answered ${res.status}; redirects are not followed`);
    }
    return res;
  }

  // Writes the body to `path` while hashing it; past `maxBytes` the stream is destroyed, which
  // closes the connection, and the partial file is removed.
  async function saveCapped(body: ReadableStream<Uint8Array>, path: string, mediaId: string): Promise<{ size: number; digest: Buffer }> {
    const hash = createHash('sha256');
    let size = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) return done(tooLarge(mediaId, maxBytes));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(body as WebReadableStream<Uint8Array>), cap, createWriteStream(path, { flags: 'wx' }));
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    return { size, digest: hash.digest() };
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

      const info = await get(`${base}/${encodeURIComponent(a.media.mediaId)}`, token, whatsapp.timeoutMs ?? 30_000);
      const meta = (await info.json().catch(() => ({}))) as { url?: string; mime_type?: string; sha256?: string; file_size?: number; error?: { code?: number; message?: string } };
      if (!info.ok || !meta.url) {
        if (info.status === 429 || info.status >= 500) throw new Error(`media lookup HTTP ${info.status}`);
        throw ApplicationFailure.nonRetryable(`media ${a.media.mediaId} unavailable: ${meta.error?.message ?? `HTTP ${info.status}`}`, 'MediaUnavailable');
      }
      // The bearer token goes along with the download: only ever to Meta.
      if (!downloadUrlAllowed(meta.url)) {
        throw refused(`media ${a.media.mediaId} download URL is not on Meta's media hosts over https (${meta.url.slice(0, 100)})`);
      }
      if (typeof meta.file_size === 'number' && meta.file_size > maxBytes) throw tooLarge(a.media.mediaId, maxBytes);

      const file = await get(meta.url, token, DOWNLOAD_TIMEOUT_MS);
      if (!file.ok || !file.body) {
        await file.body?.cancel().catch(() => {});
        throw new Error(`media download HTTP ${file.status}`); // a fresh URL on the next attempt
      }
      const declared = Number(file.headers.get('content-length'));
      if (Number.isFinite(declared) && declared > maxBytes) {
        await file.body.cancel().catch(() => {});
        throw tooLarge(a.media.mediaId, maxBytes);
      }
      await mkdir(join(root, a.tenantId), { recursive: true });
      const partial = join(root, a.tenantId, `.${randomUUID()}.part`);
      const { size, digest } = await saveCapped(file.body, partial, a.media.mediaId);
      const sha256 = digest.toString('hex');
      // Meta's examples show the hash in hex and in base64; either must match.
      const expected = meta.sha256 ?? a.media.sha256;
      if (expected && expected.toLowerCase() !== sha256 && expected !== digest.toString('base64')) {
        await rm(partial, { force: true });
        throw new Error(`media ${a.media.mediaId} hash mismatch`);
      }

      const storageKey = join(a.tenantId, sha256);
      await rename(partial, join(root, storageKey));
      return withTenant(knex, a.tenantId, async (trx) => {
        const [row] = await trx('media')
          .insert({
            id: knex.raw('gen_random_uuid()'), tenantId: a.tenantId, metaMediaId: a.media.mediaId,
            mimeType: meta.mime_type ?? a.media.mimeType, sha256, sizeBytes: size,
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

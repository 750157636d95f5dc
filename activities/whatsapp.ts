import { ApplicationFailure } from '@temporalio/activity';
import { callSignal, cancelledActivity } from './call-signal';
import type { ActivityDeps } from './deps';

// The Graph API as a provisioning step sees it: does this token reach this phone number, and
// does the number belong to the WhatsApp Business Account the tenant named?
interface GraphError {
  error?: { message?: string; type?: string; code?: number; error_subcode?: number };
}

export function whatsappActivities({ secrets, whatsapp }: ActivityDeps) {
  const base = `${whatsapp.baseUrl.replace(/\/$/, '')}/${whatsapp.apiVersion}`;

  async function graphGet<T>(path: string, token: string): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${base}/${path}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: callSignal(whatsapp.timeoutMs ?? 10_000),
      });
    } catch (err) {
      if (cancelledActivity()) throw err;
      throw new Error(`Graph API unreachable: ${(err as Error).message}`); // retried
    }
    const body = (await res.json().catch(() => ({}))) as T & GraphError;
    if (res.ok) return body;
    const code = body.error?.code;
    const message = body.error?.message ?? `HTTP ${res.status}`;
    // 429, throttling codes and 5xx are passing conditions: let the retry policy handle them.
    if (res.status === 429 || res.status >= 500 || code === 4 || code === 80007 || code === 130429) {
      throw new Error(`Graph API ${res.status} (code ${code ?? '-'}): ${message}`);
    }
    if (res.status === 401 || code === 190) {
      throw ApplicationFailure.nonRetryable(`WhatsApp access token rejected: ${message}`, 'WhatsAppTokenInvalid');
    }
    throw ApplicationFailure.nonRetryable(`WhatsApp credentials check failed (HTTP ${res.status}, code ${code ?? '-'}): ${message}`, 'WhatsAppCredentialsInvalid');
  }

  return {
    async verifyWhatsAppCredentials(a: {
      phoneNumberId: string;
      wabaId: string;
      accessTokenSealed: string;
    }): Promise<{ displayPhoneNumber: string | null; verifiedName: string | null }> {
      const token = secrets.open(a.accessTokenSealed);
      const phone = await graphGet<{ id: string; display_phone_number?: string; verified_name?: string }>(
        `${encodeURIComponent(a.phoneNumberId)}?fields=id,display_phone_number,verified_name`,
        token,
      );
      const numbers = await graphGet<{ data?: { id: string }[] }>(
        `${encodeURIComponent(a.wabaId)}/phone_numbers?fields=id`,
        token,
      );
      if (!numbers.data?.some((n) => n.id === a.phoneNumberId)) {
        throw ApplicationFailure.nonRetryable(
          `phone number ${a.phoneNumberId} does not belong to WhatsApp Business Account ${a.wabaId}`,
          'WhatsAppCredentialsInvalid',
        );
      }
      return { displayPhoneNumber: phone.display_phone_number ?? null, verifiedName: phone.verified_name ?? null };
    },
  };
}

import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sha256Signature } from '../infra/hmac-signature';
import { contact, metaEnvelope, textMessage } from '../test/fakes/meta-payloads';
import { demoWhatsAppIds, sandboxPort } from './lib/demo-tenant';
import { readLocalSecrets } from './lib/local-secrets';

// Plays a WhatsApp guest against a running `npm start`: sends one text message to the demo number
// the way Meta would (signed webhook), then shows what the local Meta sandbox "delivered" back.
//
//   npm run demo:guest -- [--from 5511999990000] [--name "Ana"] [--wait 10] "Vocês aceitam pets?"

const usage = 'usage: npm run demo:guest -- [--from 5511999990000] [--name "Ana"] [--wait 10] "mensagem"';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      from: { type: 'string', default: '5511999990000' },
      name: { type: 'string', default: 'Ana' },
      wait: { type: 'string', default: '10' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const text = positionals.join(' ').trim();
  if (values.help || !text) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const from = values.from.replace(/\D/g, '');
  if (!from) {
    console.error(`--from must be a phone number in E.164 digits (e.g. 5511999990000).\n${usage}`);
    return 2;
  }
  const waitMs = Math.max(0, Number(values.wait) || 0) * 1000;

  const env = process.env;
  // The same data directory as the `npm start` it talks to.
  const secrets = readLocalSecrets(join(resolve(__dirname, '..', env.DATA_DIR || '.data'), 'secrets.json'));
  const appSecret = env.WHATSAPP_APP_SECRET || secrets.WHATSAPP_APP_SECRET;
  if (!appSecret) {
    console.error('No WhatsApp app secret: set WHATSAPP_APP_SECRET or run `npm start` once (it writes .data/secrets.json).');
    return 1;
  }
  const { phoneNumberId, wabaId } = demoWhatsAppIds(env);
  const apiUrl = `http://127.0.0.1:${env.PORT || 3000}`;
  const sandboxUrl = `http://127.0.0.1:${sandboxPort(env)}`;

  const raw = JSON.stringify(
    metaEnvelope([{ wabaId, phoneNumberId, contacts: [contact({ waId: from, name: values.name })], messages: [textMessage({ from, body: text })] }]),
  );
  const since = Date.now();
  console.log(`${values.name} (${from}) → ${phoneNumberId}: ${text}`);
  let res: Response;
  try {
    res = await fetch(`${apiUrl}/webhooks/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': sha256Signature(raw, appSecret) },
      body: raw,
    });
  } catch (err) {
    console.error(`The API at ${apiUrl} is not reachable (${(err as Error).message}). Is \`npm start\` running?`);
    return 1;
  }
  const answer = (await res.text()).trim();
  console.log(`POST ${apiUrl}/webhooks/whatsapp → HTTP ${res.status} ${answer}`);
  if (!res.ok) return 1;
  // The API acknowledges deliveries for numbers it does not know (as Meta requires) but counts
  // only the messages it handed to a conversation.
  if (answer === 'EVENT_RECEIVED') {
    console.log(`No tenant is connected to WhatsApp number ${phoneNumberId}, so the message was dropped (see the \`npm start\` output about the demo tenant).`);
    return 1;
  }

  // Replies, as the sandbox recorded them; stop a few seconds after the last one.
  const deadline = Date.now() + waitMs;
  const quietMs = 3_000;
  let lastNew = 0;
  let shown = 0;
  while (Date.now() < deadline && !(shown > 0 && Date.now() - lastNew >= quietMs)) {
    await new Promise((r) => setTimeout(r, 500));
    let sent: { text: string | null; type: string; templateName: string | null }[];
    try {
      const poll = await fetch(`${sandboxUrl}/_sandbox/sent?to=${encodeURIComponent(from)}&since=${since}`);
      if (!poll.ok) throw new Error(`HTTP ${poll.status}`);
      sent = ((await poll.json()) as { sent: typeof sent }).sent;
    } catch (err) {
      console.log(`No local WhatsApp sandbox at ${sandboxUrl} (${(err as Error).message}): replies go to the configured Graph API.`);
      return 0;
    }
    for (const m of sent.slice(shown)) {
      const shownText = m.text ?? (m.templateName ? `[template ${m.templateName}]` : `[${m.type}]`);
      console.log(`← ${from}: ${shownText.replace(/\n+/g, '\n    ')}`);
    }
    if (sent.length > shown) {
      shown = sent.length;
      lastNew = Date.now();
    }
  }
  if (shown === 0) console.log(`No reply to ${from} within ${waitMs / 1000} s (an escalated conversation waits for an attendant).`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

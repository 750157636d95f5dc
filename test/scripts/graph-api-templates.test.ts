import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FakeGraphApi, templateTexts } from '../../scripts/sandbox/graph-api';

// Signing needs a one-time code sent in an authentication template: tests read it where Meta
// would have put it, in the template's components.
describe('FakeGraphApi: template components', () => {
  const PHONE_ID = '109000000000001';
  const CUSTOMER = '5511987654321';
  const graph = new FakeGraphApi({ exposeSandboxApi: true });
  graph.addNumber({ phoneNumberId: PHONE_ID, wabaId: 'waba-1', accessToken: 'token-tpl', displayPhoneNumber: '+55 11 90000-0001', verifiedName: 'Imobiliária' });
  let base = '';
  const post = (body: unknown) =>
    fetch(`${base}/v23.0/${PHONE_ID}/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer token-tpl', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const otpTemplate = (code: string) => ({
    messaging_product: 'whatsapp',
    to: CUSTOMER,
    type: 'template',
    template: {
      name: 'codigo_assinatura',
      language: { code: 'pt_BR' },
      components: [
        { type: 'body', parameters: [{ type: 'text', text: code }] },
        { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: code }] },
      ],
    },
  });

  before(async () => {
    base = await graph.start();
  });
  after(async () => {
    await graph.stop();
  });
  beforeEach(() => graph.reset());

  it('records the components of a sent template, in memory and in /_sandbox/sent', async () => {
    assert.equal((await post(otpTemplate('482913'))).status, 200);
    const [sent] = graph.sentTo(CUSTOMER);
    assert.equal(sent?.templateName, 'codigo_assinatura');
    assert.equal(sent?.templateLanguage, 'pt_BR');
    assert.deepEqual(sent?.components, otpTemplate('482913').template.components);
    assert.deepEqual(templateTexts(sent!), ['482913', '482913']);

    const res = await fetch(`${base}/_sandbox/sent?to=${CUSTOMER}`);
    const body = (await res.json()) as { sent: { templateName: string | null; components: unknown }[] };
    assert.equal(body.sent.length, 1);
    assert.deepEqual(body.sent[0]?.components, otpTemplate('482913').template.components);
  });

  it('has no components for a template sent without them, nor for a text', async () => {
    await post({ messaging_product: 'whatsapp', to: CUSTOMER, type: 'template', template: { name: 'boas_vindas', language: { code: 'pt_BR' } } });
    await post({ messaging_product: 'whatsapp', to: CUSTOMER, type: 'text', text: { body: 'Seu código é 111111' } });
    const [tpl, text] = graph.sentTo(CUSTOMER);
    assert.equal(tpl?.components, undefined);
    assert.deepEqual(templateTexts(tpl!), []);
    assert.equal(text?.components, undefined);
    const body = (await (await fetch(`${base}/_sandbox/sent?to=${CUSTOMER}`)).json()) as { sent: { components: unknown }[] };
    assert.deepEqual(body.sent.map((m) => m.components), [null, null]);
  });

  it('refuses components that are not an array of objects, like Meta', async () => {
    const bad = otpTemplate('1') as { template: Record<string, unknown> };
    bad.template.components = { type: 'body' };
    const res = await post(bad);
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, 100);
    assert.equal(graph.sent.length, 0);
  });
});

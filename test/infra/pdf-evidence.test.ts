import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVIDENCE_TITLE, appendEvidencePage, formatInZone, maskPhone, type EvidenceSheet } from '../../infra/pdf/evidence';
import { renderContractPdf } from '../../infra/pdf/render';
import { countPages, extractEvidenceJson, sha256Hex } from '../../infra/pdf/verify';
import { pageContents, pageTexts } from './pdf-support';

const LONG_UA =
  'Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) ' +
  'Version/4.0 Chrome/131.0.6778.135 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/489.0.0.66.81;IABMV/1;] WhatsApp/2.24.25.78';

async function original() {
  const body = Array.from({ length: 12 }, (_, i) => `Cláusula ${i + 1}: ${'o contratante paga em dia e a contratada presta o serviço. '.repeat(8)}`).join('\n\n');
  return renderContractPdf({ title: 'Contrato de prestação de serviços', body, tenantName: 'Concessionária Rota', reference: 'CT-77' });
}

function sheet(pdf: Uint8Array, events = 3): EvidenceSheet {
  const hash = sha256Hex(pdf);
  return {
    contractTitle: 'Contrato de prestação de serviços',
    reference: 'CT-77',
    originalSha256: hash,
    timeZone: 'America/Sao_Paulo',
    signers: [
      { name: 'José da Conceição', waId: '5511987654321', document: '123.456.789-09', signedAt: '2026-12-01T23:42:32.000Z', ip: '203.0.113.7', userAgent: LONG_UA, documentSha256: hash },
      { name: 'Maria Antônia', waId: '5521912345678', document: null, signedAt: '2026-12-02T10:05:00.000Z', ip: null, userAgent: null, documentSha256: null },
    ],
    events: Array.from({ length: events }, (_, i) => ({
      at: new Date(Date.UTC(2026, 11, 1, 12, i)).toISOString(),
      type: i % 2 ? 'signer.viewed' : 'signer.code_verified',
      actor: i % 2 ? 'Maria Antônia' : 'José da Conceição',
      ip: '198.51.100.4',
      userAgent: LONG_UA,
      documentSha256: hash,
      details: `Evento número ${i + 1}`,
    })),
  };
}

describe('appendEvidencePage', () => {
  it('appends pages and leaves the original pages as they were', async () => {
    const pdf = await original();
    const before = await pageContents(pdf);
    const sealedInput = await appendEvidencePage(pdf, sheet(pdf));
    const after = await pageContents(sealedInput);
    assert.ok(after.length >= before.length + 1);
    before.forEach((content, i) => assert.ok(content.equals(after[i]!), `page ${i + 1} is untouched`));
    const firstEvidence = (await pageTexts(sealedInput))[before.length]!;
    assert.ok(firstEvidence.includes(EVIDENCE_TITLE));
  });

  it('shows the original hash, each signer with masked phone, local time, IP, wrapped user agent and the hash seen', async () => {
    const pdf = await original();
    const evidence = sheet(pdf);
    const out = await appendEvidencePage(pdf, evidence);
    const lines = (await pageTexts(out)).slice(await countPages(pdf)).flat();
    const text = lines.join('\n');
    assert.ok(lines.includes(evidence.originalSha256), 'the original SHA-256 on a line of its own');
    assert.ok(text.includes('1. José da Conceição') && text.includes('2. Maria Antônia'));
    assert.ok(text.includes('Telefone (WhatsApp): +55 11 9****-4321'));
    assert.ok(!text.includes('5511987654321') && !text.includes('987654321'), 'the full phone is not printed');
    assert.ok(text.includes('Documento: 123.456.789-09') && text.includes('Documento: não informado'));
    assert.ok(text.includes('Assinou em: 01/12/2026 20:42:32 (America/Sao_Paulo; 2026-12-01T23:42:32.000Z UTC)'), 'time in the tenant zone');
    assert.ok(text.includes('IP: 203.0.113.7') && text.includes('IP: não registrado'));
    assert.ok(text.includes(`SHA-256 do documento que viu: ${evidence.originalSha256}`));
    assert.ok(!lines.some((l) => l.includes(LONG_UA)), 'the long user agent wraps');
    const uaStart = lines.findIndex((l) => l.startsWith('Navegador (user agent): Mozilla/5.0'));
    assert.ok(uaStart >= 0);
    assert.equal(lines.slice(uaStart, uaStart + 3).join(' ').replace(/\s+/g, ''), `Navegador (user agent): ${LONG_UA}`.replace(/\s+/g, ''));
    assert.ok(text.includes('Evento número 3') && text.includes('01/12/2026 09:02:00 — signer.code_verified — José da Conceição\nUTC: 2026-12-01T12:02:00.000Z\nEvento número 3'));
    assert.ok(text.includes('um hash não pode constar do próprio arquivo'), 'the note on the final hash');
  });

  it('spreads many events over several pages, footed "reference — registro de evidências — página N de M"', async () => {
    const pdf = await original();
    const originalPages = await countPages(pdf);
    const out = await appendEvidencePage(pdf, sheet(pdf, 80));
    const texts = (await pageTexts(out)).slice(originalPages);
    assert.ok(texts.length >= 2, `80 events need more than one page (got ${texts.length})`);
    texts.forEach((lines, i) => assert.equal(lines.at(-1), `CT-77 — registro de evidências — página ${i + 1} de ${texts.length}`));
    const all = texts.flat().join('\n');
    for (let i = 1; i <= 80; i++) assert.ok(all.includes(`\nEvento número ${i}\n`), `event ${i}`);
  });

  it('is deterministic and embeds evidencia.json with the phones masked', async () => {
    const pdf = await original();
    const evidence = sheet(pdf);
    const a = await appendEvidencePage(pdf, evidence);
    const b = await appendEvidencePage(pdf, evidence);
    assert.equal(sha256Hex(a), sha256Hex(b));
    const embedded = await extractEvidenceJson(a);
    assert.deepEqual(embedded, { ...evidence, signers: evidence.signers.map((s) => ({ ...s, waId: maskPhone(s.waId) })) });
    assert.equal(await extractEvidenceJson(pdf), null, 'a plain render has none');
  });
});

describe('evidence formatting', () => {
  it('masks phones', () => {
    assert.equal(maskPhone('5511987654321'), '+55 11 9****-4321');
    assert.equal(maskPhone('551133334444'), '+55 11 3***-4444');
    assert.equal(maskPhone('14155550123'), '+14*****0123');
    assert.equal(maskPhone('123'), '****');
  });

  it('formats times in the zone, and shows bad input as given', () => {
    assert.equal(formatInZone('2026-07-01T12:00:00Z', 'America/Manaus'), '01/07/2026 08:00:00 (America/Manaus; 2026-07-01T12:00:00.000Z UTC)');
    assert.equal(formatInZone('ontem', 'America/Sao_Paulo'), 'ontem');
    assert.equal(formatInZone('2026-07-01T12:00:00Z', 'Nowhere/Zone'), '2026-07-01T12:00:00.000Z UTC');
  });
});

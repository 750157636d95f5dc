import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import forge from 'node-forge';
import { appendEvidencePage } from '../../infra/pdf/evidence';
import { renderContractPdf } from '../../infra/pdf/render';
import {
  PLATFORM_CERTIFICATE_CN,
  certificateFingerprint,
  clearPlatformCertificateCache,
  createSelfSignedP12,
  loadPlatformCertificate,
  sealPdf,
} from '../../infra/pdf/seal';
import { countPages, extractEvidenceJson, sha256Hex, verifySealedPdf } from '../../infra/pdf/verify';
import { pageContents } from './pdf-support';

const info = { reason: 'Contrato assinado por todas as partes — evidências anexas', location: 'São Paulo, BR', name: 'Orquestra (plataforma)', contactInfo: 'suporte@orquestra.test' };

async function documentToSeal() {
  const pdf = await renderContractPdf({ title: 'Contrato de compra e venda de veículo', body: 'O comprador paga R$ 80.000,00 à vista.\n\nO vendedor entrega o veículo.', tenantName: 'Concessionária Rota', reference: 'CT-9' });
  return appendEvidencePage(pdf, {
    contractTitle: 'Contrato de compra e venda de veículo',
    reference: 'CT-9',
    originalSha256: sha256Hex(pdf),
    timeZone: 'America/Sao_Paulo',
    signers: [{ name: 'Ana Lúcia', waId: '5511987650000', signedAt: '2026-12-01T15:00:00.000Z', ip: '203.0.113.9', userAgent: 'Mozilla/5.0', documentSha256: sha256Hex(pdf) }],
    events: [{ at: '2026-12-01T15:00:00.000Z', type: 'signer.signed', actor: 'Ana Lúcia' }],
  });
}

// Where the signed bytes are: [0, a) and [b, b + c) of the /ByteRange.
function byteRange(pdf: Uint8Array): number[] {
  const m = [...Buffer.from(pdf).toString('latin1').matchAll(/\/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]/g)].pop();
  assert.ok(m, 'a /ByteRange');
  return m.slice(1).map(Number);
}

describe('sealPdf and verifySealedPdf', () => {
  beforeEach(() => clearPlatformCertificateCache());

  it('seals with the platform certificate and verifies it, keeping pages and evidence', async () => {
    const cert = loadPlatformCertificate({});
    assert.equal(cert.commonName, PLATFORM_CERTIFICATE_CN);
    const pdf = await documentToSeal();
    const signingTime = new Date('2026-12-01T15:05:07.000Z');
    const sealed = await sealPdf(pdf, cert, { ...info, signingTime });
    assert.deepEqual(verifySealedPdf(sealed), { signed: true, byteRangeDigestOk: true, signerCommonName: PLATFORM_CERTIFICATE_CN, signedAt: signingTime });
    assert.equal(await countPages(sealed), await countPages(pdf));
    const [before, after] = [await pageContents(pdf), await pageContents(sealed)];
    before.forEach((c, i) => assert.ok(c.equals(after[i]!), `page ${i + 1} unchanged by the seal`));
    assert.equal((await extractEvidenceJson(sealed))?.reference, 'CT-9');
    const text = Buffer.from(sealed).toString('latin1');
    assert.ok(text.includes('/SubFilter /adbe.pkcs7.detached'));
    assert.ok(text.includes('/Location (S\xe3o Paulo, BR)'), 'Latin-1 in the signature dictionary');
    assert.ok(text.includes('/Name (Orquestra \\(plataforma\\))'), 'parentheses escaped');
  });

  it('gives the same bytes for the same input and signing time', async () => {
    const cert = loadPlatformCertificate({});
    const pdf = await documentToSeal();
    const signingTime = new Date('2026-12-01T15:05:07.000Z');
    assert.equal(sha256Hex(await sealPdf(pdf, cert, { ...info, signingTime })), sha256Hex(await sealPdf(pdf, cert, { ...info, signingTime })));
  });

  it('detects one flipped byte anywhere in the signed ranges, a changed signature and appended bytes', async () => {
    const sealed = await sealPdf(await documentToSeal(), loadPlatformCertificate({}), info);
    const [, a, b, c] = byteRange(sealed) as [number, number, number, number];
    assert.equal(b + c, sealed.length, 'the ranges reach the end of the file');
    for (const at of [10, a - 1, b, b + Math.floor(c / 2), sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[at] = tampered[at]! ^ 0x01;
      const result = verifySealedPdf(tampered);
      assert.equal(result.byteRangeDigestOk, false, `byte ${at} flipped`);
    }
    const badSignature = Buffer.from(sealed);
    // A hex digit inside the PKCS#7 near its end: the RSA signature value.
    const hexEnd = Buffer.from(sealed).subarray(a + 1, b - 1).toString('latin1').replace(/(00)+$/, '').length;
    const pos = a + 1 + hexEnd - 10;
    badSignature[pos] = badSignature[pos] === 0x30 ? 0x31 : 0x30;
    assert.equal(verifySealedPdf(badSignature).byteRangeDigestOk, false, 'a changed signature value');
    const appended = Buffer.concat([Buffer.from(sealed), Buffer.from('\n% added later\n')]);
    assert.equal(verifySealedPdf(appended).byteRangeDigestOk, false, 'bytes outside the signed ranges');
  });

  it('says an unsigned or garbled PDF is not signed', async () => {
    const plain = await renderContractPdf({ title: 'T', body: 'B', tenantName: 'X', reference: 'R' });
    assert.deepEqual(verifySealedPdf(plain), { signed: false, byteRangeDigestOk: false, signerCommonName: null, signedAt: null });
    assert.equal(verifySealedPdf(new TextEncoder().encode('/ByteRange [0 10 20 5] /Contents <zz>')).signed, false);
    assert.equal(verifySealedPdf(new Uint8Array()).signed, false);
  });
});

describe('loadPlatformCertificate', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'orq-cert-'));
    dirs.push(dir);
    return dir;
  };
  beforeEach(() => clearPlatformCertificateCache());
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('generates the certificate once in dataDir and reuses it after a restart', () => {
    const dataDir = join(tempDir(), 'nested');
    const first = loadPlatformCertificate({ dataDir });
    const file = join(dataDir, 'signing-certificate.p12');
    assert.ok(readFileSync(file).equals(first.p12));
    assert.equal(statSync(file).mode & 0o077, 0, 'not readable by others');
    assert.equal(readFileSync(join(dataDir, 'signing-certificate.passphrase'), 'utf8'), first.passphrase);
    clearPlatformCertificateCache(); // a restart
    const second = loadPlatformCertificate({ dataDir });
    assert.notEqual(second, first);
    assert.equal(certificateFingerprint(second), certificateFingerprint(first));
    assert.match(certificateFingerprint(first), /^[0-9A-F]{64}$/);
    const other = loadPlatformCertificate({ dataDir: tempDir() });
    assert.notEqual(certificateFingerprint(other), certificateFingerprint(first), 'another data dir, another key');
  });

  it('keeps one in-memory certificate per process without a dataDir', () => {
    const a = loadPlatformCertificate({});
    assert.equal(certificateFingerprint(loadPlatformCertificate({})), certificateFingerprint(a));
  });

  it('uses a configured PKCS#12 and seals with it', async () => {
    const p12 = createSelfSignedP12('Cartório Digital de Teste', 'segredo-123');
    const cert = loadPlatformCertificate({ p12Base64: p12.toString('base64'), passphrase: 'segredo-123', dataDir: tempDir() });
    assert.equal(cert.commonName, 'Cartório Digital de Teste');
    assert.ok(cert.p12.equals(p12));
    const sealed = await sealPdf(await documentToSeal(), cert, info);
    const result = verifySealedPdf(sealed);
    assert.equal(result.byteRangeDigestOk, true);
    assert.equal(result.signerCommonName, 'Cartório Digital de Teste');
  });

  it('seals with a configured PKCS#12 that carries a certificate chain', async () => {
    const open = (p12: Buffer, pw: string) => {
      const parsed = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(p12.toString('binary')), pw);
      const key = parsed.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag as string })[forge.pki.oids.pkcs8ShroudedKeyBag as string]![0]!.key!;
      const cert = parsed.getBags({ bagType: forge.pki.oids.certBag as string })[forge.pki.oids.certBag as string]![0]!.cert!;
      return { key, cert };
    };
    const leaf = open(createSelfSignedP12('Empresa Assinante Ltda', 'x'), 'x');
    const chain = ['AC Intermediária 1', 'AC Intermediária 2', 'AC Intermediária 3', 'AC Raiz'].map((cn) => open(createSelfSignedP12(cn, 'x'), 'x').cert);
    const p12 = Buffer.from(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(leaf.key, [leaf.cert, ...chain], 'pw')).getBytes(), 'binary');
    const cert = loadPlatformCertificate({ p12Base64: p12.toString('base64'), passphrase: 'pw' });
    assert.equal(cert.commonName, 'Empresa Assinante Ltda');
    const result = verifySealedPdf(await sealPdf(await documentToSeal(), cert, info));
    assert.equal(result.byteRangeDigestOk, true);
    assert.equal(result.signerCommonName, 'Empresa Assinante Ltda', 'the signer, not the first certificate of the chain');
  });

  it('refuses a configured PKCS#12 with the wrong passphrase, saying which setting', () => {
    const p12 = createSelfSignedP12('Outro', 'certa');
    assert.throws(() => loadPlatformCertificate({ p12Base64: p12.toString('base64'), passphrase: 'errada' }), /SIGNING_CERT_P12_BASE64.*passphrase/);
  });
});

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { P12Signer } from '@signpdf/signer-p12';
import signpdf from '@signpdf/signpdf';
import forge from 'node-forge';
import { PDFDocument } from 'pdf-lib';

// STAND-IN (H5 owns infra/pdf): same name and signature as the PDF layer's; the merge keeps H5's.

export interface PlatformCertificate {
  p12: Buffer;
  passphrase: string;
  commonName: string;
}

const COMMON_NAME = 'Orquestra Plataforma de Assinaturas';

function selfSigned(passphrase: string): Buffer {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8));
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  const attrs = [{ name: 'commonName', value: COMMON_NAME }, { name: 'organizationName', value: 'Orquestra' }, { name: 'countryName', value: 'BR' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const p12 = forge.pkcs12.toPkcs12Asn1(keys.privateKey, [cert], passphrase, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary');
}

let generated: PlatformCertificate | undefined;

export function loadPlatformCertificate(config: { p12Base64?: string; passphrase?: string; dataDir?: string }): PlatformCertificate {
  const passphrase = config.passphrase ?? '';
  if (config.p12Base64) return { p12: Buffer.from(config.p12Base64, 'base64'), passphrase, commonName: COMMON_NAME };
  if (config.dataDir) {
    const file = join(config.dataDir, 'platform-seal.p12');
    if (!existsSync(file)) {
      mkdirSync(config.dataDir, { recursive: true });
      writeFileSync(file, selfSigned(passphrase), { mode: 0o600 });
    }
    return { p12: readFileSync(file), passphrase, commonName: COMMON_NAME };
  }
  generated ??= { p12: selfSigned(passphrase), passphrase, commonName: COMMON_NAME };
  return generated;
}

export async function sealPdf(pdf: Uint8Array, cert: PlatformCertificate, info: { reason: string; location: string; name: string }): Promise<Uint8Array> {
  const doc = await PDFDocument.load(pdf);
  pdflibAddPlaceholder({ pdfDoc: doc, reason: info.reason, location: info.location, name: info.name, contactInfo: '', signatureLength: 16384 });
  const withPlaceholder = await doc.save({ useObjectStreams: false });
  const signed = await signpdf.sign(Buffer.from(withPlaceholder), new P12Signer(cert.p12, { passphrase: cert.passphrase }));
  return new Uint8Array(signed);
}

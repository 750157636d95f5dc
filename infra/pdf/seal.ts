import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { PDFDocument } from 'pdf-lib';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { P12Signer } from '@signpdf/signer-p12';
import { commonNameOf, sha256Hex } from './verify';

export interface PlatformCertificate {
  p12: Buffer;
  passphrase: string;
  commonName: string;
}

export const PLATFORM_CERTIFICATE_CN = 'Orquestra Plataforma de Assinaturas';
const CERT_FILE = 'signing-certificate.p12';
const PASSPHRASE_FILE = 'signing-certificate.passphrase';

const cache = new Map<string, PlatformCertificate>();

/**
 * The certificate the platform seals completed contracts with: the configured PKCS#12 when
 * there is one; else a self-signed one generated once and kept in `dataDir` so every process and
 * every restart seals with the same key; with no dataDir (tests), one per process in memory.
 */
export function loadPlatformCertificate(opts: { p12Base64?: string; passphrase?: string; dataDir?: string }): PlatformCertificate {
  const key = opts.p12Base64 ? `p12:${opts.p12Base64}:${opts.passphrase ?? ''}` : opts.dataDir ? `dir:${opts.dataDir}` : 'memory';
  const cached = cache.get(key);
  if (cached) return cached;
  let cert: PlatformCertificate;
  if (opts.p12Base64) {
    cert = fromP12(Buffer.from(opts.p12Base64, 'base64'), opts.passphrase ?? '', 'SIGNING_CERT_P12_BASE64');
  } else if (opts.dataDir) {
    cert = loadOrCreateInDir(opts.dataDir, opts.passphrase);
  } else {
    const passphrase = opts.passphrase ?? randomBytes(18).toString('base64url');
    cert = { p12: createSelfSignedP12(PLATFORM_CERTIFICATE_CN, passphrase), passphrase, commonName: PLATFORM_CERTIFICATE_CN };
  }
  cache.set(key, cert);
  return cert;
}

// Several processes (API, workers) may start at once: each file is created exclusively and
// whoever loses the race reads the winner's, so all of them end up with one certificate.
function loadOrCreateInDir(dataDir: string, passphraseOpt: string | undefined): PlatformCertificate {
  mkdirSync(dataDir, { recursive: true });
  const certPath = join(dataDir, CERT_FILE);
  const passPath = join(dataDir, PASSPHRASE_FILE);
  if (!existsSync(passPath)) createExclusive(passPath, Buffer.from(passphraseOpt ?? randomBytes(18).toString('base64url')));
  const passphrase = readFileSync(passPath, 'utf8');
  if (!existsSync(certPath)) createExclusive(certPath, createSelfSignedP12(PLATFORM_CERTIFICATE_CN, passphrase));
  return fromP12(readFileSync(certPath), passphrase, certPath);
}

function createExclusive(path: string, content: Buffer): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
}

const KEY_BAG = forge.pki.oids.pkcs8ShroudedKeyBag as string;
const CERT_BAG = forge.pki.oids.certBag as string;

// @signpdf/signer-p12 reads the key from a shrouded key bag and needs the certificate matching it.
function openP12(p12: Buffer, passphrase: string): { key: forge.pki.rsa.PrivateKey; cert: forge.pki.Certificate } | null {
  const parsed = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary'))), false, passphrase);
  const key = (parsed.getBags({ bagType: KEY_BAG })[KEY_BAG] ?? [])[0]?.key as forge.pki.rsa.PrivateKey | undefined;
  if (!key?.n) return null;
  const cert = (parsed.getBags({ bagType: CERT_BAG })[CERT_BAG] ?? []).find((b: forge.pkcs12.Bag) => {
    const pub = b.cert?.publicKey as forge.pki.rsa.PublicKey | undefined;
    return !!pub?.n && pub.n.compareTo(key.n) === 0 && pub.e.compareTo(key.e) === 0;
  })?.cert;
  return cert ? { key, cert } : null;
}

function fromP12(p12: Buffer, passphrase: string, source: string): PlatformCertificate {
  let opened: ReturnType<typeof openP12>;
  try {
    opened = openP12(p12, passphrase);
  } catch (err) {
    throw new Error(`signing certificate (${source}): cannot open the PKCS#12 with the given passphrase: ${(err as Error).message}`);
  }
  if (!opened) throw new Error(`signing certificate (${source}): the PKCS#12 needs an encrypted RSA private key and its certificate`);
  const { cert } = opened;
  return { p12, passphrase, commonName: commonNameOf(cert) ?? cert.subject.attributes.map((a) => `${a.shortName ?? a.name}=${String(a.value)}`).join(', ') };
}

function certificateOf(cert: PlatformCertificate): forge.pki.Certificate {
  const opened = openP12(cert.p12, cert.passphrase);
  if (!opened) throw new Error('signing certificate: no certificate matches the private key');
  return opened.cert;
}

/** SHA-256 of the certificate's DER, as openssl prints it (hex, upper case, colon-free): for records and logs. */
export function certificateFingerprint(cert: PlatformCertificate): string {
  return sha256Hex(Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(certificateOf(cert))).getBytes(), 'binary')).toUpperCase();
}

/** Tests only: forgets the per-process cache, as a restart would. */
export function clearPlatformCertificateCache(): void {
  cache.clear();
}

/** A self-signed RSA-2048 certificate valid for 10 years, as PKCS#12 (also used by tests). */
export function createSelfSignedP12(commonName: string, passphrase: string, years = 10): Buffer {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  // A positive serial: the leading byte stays below 0x80.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 24 * 3600_000);
  cert.validity.notAfter = new Date(now);
  cert.validity.notAfter.setUTCFullYear(now.getUTCFullYear() + years);
  const subject = [
    { name: 'commonName', value: commonName, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
    { name: 'organizationName', value: 'Orquestra' },
    { name: 'countryName', value: 'BR' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, [cert], passphrase, { algorithm: 'aes256', friendlyName: commonName });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

export interface SealInfo {
  reason: string;
  location: string;
  name: string;
  contactInfo?: string;
  /** The signature's time; now when absent. A fixed one makes the sealed bytes reproducible. */
  signingTime?: Date;
}

/**
 * Signs the whole PDF with the platform certificate: a detached PKCS#7 (SubFilter
 * adbe.pkcs7.detached) over every byte but the signature itself, so any later change shows.
 */
export async function sealPdf(pdf: Uint8Array, cert: PlatformCertificate, info: SealInfo): Promise<Uint8Array> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  const signingTime = info.signingTime ?? new Date();
  pdflibAddPlaceholder({
    pdfDoc: doc,
    reason: pdfLiteral(info.reason),
    location: pdfLiteral(info.location),
    name: pdfLiteral(info.name),
    contactInfo: pdfLiteral(info.contactInfo ?? ''),
    signingTime,
    signatureLength: signatureRoom(cert),
    appName: 'Orquestra',
  });
  const withPlaceholder = Buffer.from(await doc.save({ useObjectStreams: false }));
  const signed = await new SignPdf().sign(withPlaceholder, new P12Signer(cert.p12, { passphrase: cert.passphrase }), signingTime);
  return new Uint8Array(signed.buffer, signed.byteOffset, signed.byteLength);
}

// Hex characters reserved for the PKCS#7: it carries every certificate of the PKCS#12 (a CA chain
// can be several kB), so the room grows with the file; the library's default of 8192 fits a lone one.
function signatureRoom(cert: PlatformCertificate): number {
  return Math.max(8192, 2 * (cert.p12.length + 2048));
}

// The placeholder writes these as literal strings byte by byte, unescaped: keep them in Latin-1
// (PDFDocEncoding agrees with it on pt-BR letters) and escape what would end the string early.
function pdfLiteral(text: string): string {
  return [...text.normalize('NFC')]
    .map((ch) => {
      const cp = ch.codePointAt(0) as number;
      if (cp === 0x2013 || cp === 0x2014) return '-';
      if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return ' ';
      if (cp <= 0xff) return ch;
      const base = ch.normalize('NFD').replace(/\p{M}/gu, '');
      return [...base].every((c) => (c.codePointAt(0) as number) <= 0xff) ? base : '?';
    })
    .join('')
    .replace(/[\\()]/g, (c) => `\\${c}`);
}

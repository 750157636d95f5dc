import { createHash } from 'node:crypto';
import forge from 'node-forge';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFRawStream, PDFString, PDFHexString, decodePDFRawStream } from 'pdf-lib';
import { EVIDENCE_ATTACHMENT, type EvidenceSheet } from './evidence';

export function sha256Hex(bytes: Uint8Array | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface SealVerification {
  /** A signature dictionary with a PKCS#7 in it was found. */
  signed: boolean;
  /**
   * The document is intact as signed: the signed messageDigest equals the SHA-256 of the byte
   * ranges, the ranges cover the whole file but the signature, and the signature over the
   * authenticated attributes verifies with the signer's certificate (else the digest proves nothing).
   */
  byteRangeDigestOk: boolean;
  signerCommonName: string | null;
  signedAt: Date | null;
}

const OID_MESSAGE_DIGEST = forge.pki.oids.messageDigest as string;
const OID_SIGNING_TIME = forge.pki.oids.signingTime as string;
const OID_SHA256 = forge.pki.oids.sha256 as string;

// node-forge 1.3+ takes options here; its published types still say `strict?: boolean`.
const fromDerPrefix = forge.asn1.fromDer as unknown as (bytes: forge.util.ByteStringBuffer, options: { parseAllBytes: boolean }) => forge.asn1.Asn1;

const NOT_SIGNED: SealVerification = { signed: false, byteRangeDigestOk: false, signerCommonName: null, signedAt: null };

/** Checks the last signature of a PDF sealed by sealPdf (adbe.pkcs7.detached, SHA-256, RSA). */
export function verifySealedPdf(pdf: Uint8Array): SealVerification {
  const buf = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength);
  const range = lastByteRange(buf);
  if (!range) return NOT_SIGNED;
  const [start1, len1, start2, len2] = range;
  if (start1 !== 0 || len1 < 0 || start2 < len1 + 2 || start2 + len2 > buf.length || buf[len1] !== 0x3c || buf[start2 - 1] !== 0x3e) {
    return NOT_SIGNED;
  }
  const hex = buf.subarray(len1 + 1, start2 - 1).toString('latin1');
  let p7: forge.pkcs7.PkcsSignedData;
  let signerInfo: forge.asn1.Asn1 | undefined;
  try {
    const der = Buffer.from(hex, 'hex');
    // The placeholder is padded with zeros after the DER.
    const asn1 = fromDerPrefix(forge.util.createBuffer(der.toString('binary')), { parseAllBytes: false });
    p7 = forge.pkcs7.messageFromAsn1(asn1) as forge.pkcs7.PkcsSignedData;
    signerInfo = ((p7 as unknown as { rawCapture: { signerInfos?: forge.asn1.Asn1[] } }).rawCapture.signerInfos ?? [])[0];
  } catch {
    return NOT_SIGNED;
  }
  if (!signerInfo) return NOT_SIGNED;

  const parts = signerInfo.value as forge.asn1.Asn1[];
  const serial = forge.util.createBuffer(((parts[1]?.value as forge.asn1.Asn1[])?.[1]?.value as string) ?? '').toHex();
  const digestAlgorithm = forge.asn1.derToOid(((parts[2]?.value as forge.asn1.Asn1[])?.[0]?.value as string) ?? '');
  const authAttrs = parts.find((p) => p.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && p.type === 0);
  const signature = parts.find((p, i) => i > 3 && p.tagClass === forge.asn1.Class.UNIVERSAL && p.type === forge.asn1.Type.OCTETSTRING);
  const certificate = p7.certificates.find((c) => stripZeros(c.serialNumber) === stripZeros(serial)) ?? p7.certificates[0];
  const signerCommonName = certificate ? commonNameOf(certificate) : null;
  if (!authAttrs || !signature || !certificate || digestAlgorithm !== OID_SHA256) {
    return { signed: true, byteRangeDigestOk: false, signerCommonName, signedAt: null };
  }

  let messageDigest: string | null = null;
  let signedAt: Date | null = null;
  for (const attr of authAttrs.value as forge.asn1.Asn1[]) {
    const [oid, values] = attr.value as forge.asn1.Asn1[];
    const value = (values?.value as forge.asn1.Asn1[] | undefined)?.[0];
    if (!oid || !value) continue;
    const type = forge.asn1.derToOid(oid.value as string);
    if (type === OID_MESSAGE_DIGEST) messageDigest = forge.util.bytesToHex(value.value as string);
    if (type === OID_SIGNING_TIME) {
      signedAt = value.type === forge.asn1.Type.UTCTIME ? forge.asn1.utcTimeToDate(value.value as string) : forge.asn1.generalizedTimeToDate(value.value as string);
    }
  }

  const content = Buffer.concat([buf.subarray(start1, start1 + len1), buf.subarray(start2, start2 + len2)]);
  const digestMatches = messageDigest === sha256Hex(content);
  const coversWholeFile = start2 + len2 === buf.length;

  // What was signed is the DER of the attributes as a SET, not the [0] IMPLICIT tag they carry here.
  const attrsAsSet = forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.SET, true, authAttrs.value as forge.asn1.Asn1[]);
  const md = forge.md.sha256.create();
  md.update(forge.asn1.toDer(attrsAsSet).getBytes());
  let signatureValid = false;
  try {
    signatureValid = (certificate.publicKey as forge.pki.rsa.PublicKey).verify(md.digest().getBytes(), signature.value as string);
  } catch {
    signatureValid = false;
  }
  return { signed: true, byteRangeDigestOk: digestMatches && coversWholeFile && signatureValid, signerCommonName, signedAt };
}

/** The subject's CN, decoded when it is a UTF8String (forge hands those over as UTF-8 bytes). */
export function commonNameOf(cert: forge.pki.Certificate): string | null {
  const field = cert.subject.getField('CN') as { value: string; valueTagClass?: number } | null;
  if (!field) return null;
  if (field.valueTagClass !== forge.asn1.Type.UTF8) return field.value;
  try {
    return forge.util.decodeUtf8(field.value);
  } catch {
    return field.value;
  }
}

function stripZeros(hex: string): string {
  return hex.toLowerCase().replace(/^0+/, '');
}

function lastByteRange(buf: Buffer): [number, number, number, number] | null {
  const text = buf.toString('latin1');
  const re = /\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) last = m;
  if (!last) return null;
  return [Number(last[1]), Number(last[2]), Number(last[3]), Number(last[4])];
}

export async function countPages(pdf: Uint8Array): Promise<number> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  return doc.getPageCount();
}

/** The `evidencia.json` appendEvidencePage embedded (signers' waId masked), or null when the PDF has none. */
export async function extractEvidenceJson(pdf: Uint8Array): Promise<EvidenceSheet | null> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  const names = doc.catalog.lookupMaybe(PDFName.of('Names'), PDFDict);
  const files = names?.lookupMaybe(PDFName.of('EmbeddedFiles'), PDFDict);
  const list = files?.lookupMaybe(PDFName.of('Names'), PDFArray);
  if (!list) return null;
  for (let i = 0; i + 1 < list.size(); i += 2) {
    const name = list.lookup(i);
    const label = name instanceof PDFString || name instanceof PDFHexString ? name.decodeText() : null;
    if (label !== EVIDENCE_ATTACHMENT) continue;
    const spec = list.lookup(i + 1, PDFDict);
    const stream = spec.lookup(PDFName.of('EF'), PDFDict).lookup(PDFName.of('F'));
    if (!(stream instanceof PDFRawStream)) return null;
    const bytes = decodePDFRawStream(stream).decode();
    return JSON.parse(new TextDecoder().decode(bytes)) as EvidenceSheet;
  }
  return null;
}

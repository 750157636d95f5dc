import { createHash } from 'node:crypto';
import forge from 'node-forge';

// STAND-IN (H5 owns infra/pdf): same name and signature as the PDF layer's; the merge keeps H5's.

// forge's typings predate its options object; parseAllBytes false reads the DER and ignores the padding.
const fromDerPrefix = (der: string): forge.asn1.Asn1 =>
  (forge.asn1.fromDer as unknown as (b: string, o: { parseAllBytes: boolean }) => forge.asn1.Asn1)(der, { parseAllBytes: false });

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// Reads the last signature's ByteRange, checks the PKCS#7's message digest against the covered
// bytes, and names the signer.
export function verifySealedPdf(pdf: Uint8Array): { signed: boolean; byteRangeDigestOk: boolean; signerCommonName: string | null } {
  const buf = Buffer.from(pdf);
  const text = buf.toString('latin1');
  const ranges = [...text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)];
  const last = ranges.at(-1);
  if (!last) return { signed: false, byteRangeDigestOk: false, signerCommonName: null };
  const [a, b, c, d] = last.slice(1, 5).map(Number) as [number, number, number, number];
  const signed = Buffer.concat([buf.subarray(a, a + b), buf.subarray(c, c + d)]);
  // The placeholder is zero-padded after the DER; its own length header says where it ends.
  const hex = buf.subarray(a + b + 1, c - 1).toString('latin1');
  try {
    const der = forge.util.hexToBytes(hex);
    const p7 = forge.pkcs7.messageFromAsn1(fromDerPrefix(der)) as unknown as {
      certificates: forge.pki.Certificate[];
      rawCapture: { authenticatedAttributes?: forge.asn1.Asn1[] };
    };
    const attrs = p7.rawCapture.authenticatedAttributes ?? [];
    let digest: string | null = null;
    for (const attr of attrs) {
      const seq = attr.value as forge.asn1.Asn1[];
      const oid = forge.asn1.derToOid(seq[0]!.value as string);
      if (oid === forge.pki.oids.messageDigest) digest = ((seq[1]!.value as forge.asn1.Asn1[])[0]!.value as string);
    }
    const actual = createHash('sha256').update(signed).digest().toString('latin1');
    const cn = p7.certificates[0]?.subject.getField('CN')?.value ?? null;
    return { signed: true, byteRangeDigestOk: digest !== null && digest === actual, signerCommonName: cn };
  } catch {
    return { signed: true, byteRangeDigestOk: false, signerCommonName: null };
  }
}

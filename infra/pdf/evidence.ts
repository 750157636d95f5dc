import { PDFDocument } from 'pdf-lib';
import { FIXED_PDF_DATE, PageWriter, embedFonts } from './layout';

export interface EvidenceSheet {
  contractTitle: string;
  reference: string;
  originalSha256: string;
  timeZone: string;
  signers: {
    name: string;
    waId: string;
    document?: string | null;
    signedAt: string;
    ip: string | null;
    userAgent: string | null;
    documentSha256: string | null;
  }[];
  events: {
    at: string;
    type: string;
    actor: string;
    ip?: string | null;
    userAgent?: string | null;
    documentSha256?: string | null;
    details?: string;
  }[];
}

export const EVIDENCE_TITLE = 'Registro de assinaturas e evidências';
export const EVIDENCE_ATTACHMENT = 'evidencia.json';

/**
 * Appends the evidence pages to the signed original and embeds the same data as
 * `evidencia.json` (phones masked). The original pages are carried over as they are (their content streams are
 * not rewritten) and nothing variable is written, so the same input gives the same bytes.
 */
export async function appendEvidencePage(original: Uint8Array, evidence: EvidenceSheet): Promise<Uint8Array> {
  const pdf = await PDFDocument.load(original, { updateMetadata: false });
  const writer = new PageWriter(pdf, await embedFonts(pdf), `${evidence.contractTitle} — ${evidence.reference}`);
  writer.text(EVIDENCE_TITLE, { bold: true, size: 15 });
  writer.text(`Contrato: ${evidence.contractTitle}`, { gapBefore: 8 });
  writer.text(`Referência: ${evidence.reference}`);
  writer.text(`Fuso horário dos horários: ${evidence.timeZone}`);
  writer.text('SHA-256 do documento original:', { gapBefore: 6, bold: true, size: 10 });
  writer.text(evidence.originalSha256, { size: 10 });

  writer.text(`Signatários (${evidence.signers.length})`, { bold: true, size: 12, gapBefore: 14 });
  evidence.signers.forEach((s, i) => {
    writer.text(`${i + 1}. ${s.name}`, { bold: true, size: 10, gapBefore: 8 });
    const lines = [
      `Telefone (WhatsApp): ${maskPhone(s.waId)}`,
      `Documento: ${s.document || 'não informado'}`,
      `Assinou em: ${formatInZone(s.signedAt, evidence.timeZone)}`,
      `IP: ${s.ip ?? 'não registrado'}`,
      `Navegador (user agent): ${s.userAgent ?? 'não registrado'}`,
      `SHA-256 do documento que viu: ${s.documentSha256 ?? 'não registrado'}`,
    ];
    for (const line of lines) writer.text(line, { size: 9, indent: 12 });
  });

  writer.text(`Eventos (${evidence.events.length})`, { bold: true, size: 12, gapBefore: 14 });
  for (const e of evidence.events) {
    writer.text(`${formatLocal(e.at, evidence.timeZone)} — ${e.type} — ${e.actor}`, { size: 9, bold: true, gapBefore: 5 });
    const utc = new Date(e.at);
    const extra = [
      Number.isNaN(utc.getTime()) ? null : `UTC: ${utc.toISOString()}`,
      e.details ? e.details : null,
      e.ip ? `IP: ${e.ip}` : null,
      e.userAgent ? `Navegador: ${e.userAgent}` : null,
      e.documentSha256 ? `SHA-256: ${e.documentSha256}` : null,
    ].filter((l): l is string => l !== null);
    for (const line of extra) writer.text(line, { size: 8.5, indent: 12 });
  }

  writer.text(
    'O SHA-256 do documento final (este arquivo, com estas páginas e o selo da plataforma) fica ' +
      'guardado no registro de conclusão do contrato: um hash não pode constar do próprio arquivo que resume.',
    { size: 9, gapBefore: 14 },
  );
  writer.drawFooters(`${evidence.reference} — registro de evidências`);

  // Every signer gets the file: their phones go masked, as on the page (the full ones stay in the database).
  const embedded: EvidenceSheet = { ...evidence, signers: evidence.signers.map((s) => ({ ...s, waId: maskPhone(s.waId) })) };
  await pdf.attach(new TextEncoder().encode(JSON.stringify(embedded, null, 2)), EVIDENCE_ATTACHMENT, {
    mimeType: 'application/json',
    description: EVIDENCE_TITLE,
    creationDate: FIXED_PDF_DATE,
    modificationDate: FIXED_PDF_DATE,
  });
  return pdf.save({ useObjectStreams: false });
}

/** "+55 11 9****-4321": enough to recognise the number, not enough to reuse it. */
export function maskPhone(waId: string): string {
  const d = waId.replace(/\D/g, '');
  if (d.length <= 4) return '****';
  const last4 = d.slice(-4);
  if (d.startsWith('55') && (d.length === 12 || d.length === 13)) {
    const local = d.slice(4, -4);
    return `+55 ${d.slice(2, 4)} ${local.slice(0, 1)}${'*'.repeat(local.length - 1)}-${last4}`;
  }
  const head = d.slice(0, Math.min(2, d.length - 4));
  return `+${head}${'*'.repeat(d.length - 4 - head.length)}${last4}`;
}

/** "01/12/2026 20:42:32 (America/Sao_Paulo; 2026-12-01T23:42:32.000Z UTC)"; bad input is shown as given. */
export function formatInZone(iso: string, timeZone: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const local = formatLocal(iso, timeZone);
  return local === iso || local.endsWith(' UTC') ? local : `${local} (${timeZone}; ${at.toISOString()} UTC)`;
}

/** "01/12/2026 20:42:32" in the zone; the UTC ISO time when the zone is unknown, bad input as given. */
export function formatLocal(iso: string, timeZone: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  try {
    return new Intl.DateTimeFormat('pt-BR', { timeZone, dateStyle: 'short', timeStyle: 'medium' }).format(at).replace(',', '');
  } catch {
    return `${at.toISOString()} UTC`;
  }
}

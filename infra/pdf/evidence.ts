import { PDFDocument } from 'pdf-lib';
import { writeParagraphs } from './render';

// STAND-IN (H5 owns infra/pdf): same name and signature as the PDF layer's; the merge keeps H5's.

export interface EvidenceSheet {
  contractTitle: string;
  reference: string;
  originalSha256: string;
  timeZone: string;
  signers: { name: string; waId: string; document?: string; signedAt: string; ip: string; userAgent: string; documentSha256: string }[];
  events: { at: string; type: string; actor: string; ip?: string | null; userAgent?: string | null; documentSha256?: string | null; details?: string }[];
}

const local = (iso: string, timeZone: string) =>
  new Date(iso).toLocaleString('pt-BR', { timeZone, dateStyle: 'short', timeStyle: 'medium' });

export async function appendEvidencePage(original: Uint8Array, evidence: EvidenceSheet): Promise<Uint8Array> {
  const pdf = await PDFDocument.load(original);
  const paragraphs = [
    `Contrato: ${evidence.contractTitle} (${evidence.reference})`,
    `SHA-256 do documento original: ${evidence.originalSha256}`,
    'Signatários:',
    ...evidence.signers.map(
      (s) =>
        `${s.name} (WhatsApp ${s.waId}${s.document ? `, documento ${s.document}` : ''}) assinou em ${local(s.signedAt, evidence.timeZone)} ` +
        `do IP ${s.ip}, navegador "${s.userAgent}", documento visto SHA-256 ${s.documentSha256}`,
    ),
    'Eventos:',
    ...evidence.events.map(
      (e) =>
        `${local(e.at, evidence.timeZone)} · ${e.type} · ${e.actor}` +
        `${e.ip ? ` · IP ${e.ip}` : ''}${e.userAgent ? ` · ${e.userAgent}` : ''}` +
        `${e.documentSha256 ? ` · SHA-256 ${e.documentSha256}` : ''}${e.details ? ` · ${e.details}` : ''}`,
    ),
    'O SHA-256 deste arquivo final fica registrado no sistema e no registro de conclusão.',
  ];
  await writeParagraphs(pdf, 'Página de evidências de assinatura', paragraphs, `${evidence.reference} · evidências`);
  return pdf.save({ useObjectStreams: false });
}

import { PDFDocument } from 'pdf-lib';
import { FIXED_PDF_DATE, PageWriter, embedFonts, setFixedMetadata } from './layout';

export interface ContractPdfInput {
  title: string;
  body: string;
  tenantName: string;
  reference: string;
  /** Written as the PDF's creation/modification date; a fixed date when absent. */
  createdAt?: Date;
}

/**
 * The contract as an A4 PDF: the tenant in the header, the title, the body's paragraphs (blank
 * lines separate them), "reference — página N de M" in the footer. The same input always gives
 * the same bytes, so a retried activity stores the same document and hash.
 */
export async function renderContractPdf(doc: ContractPdfInput): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  setFixedMetadata(pdf, doc.title, doc.createdAt ?? FIXED_PDF_DATE);
  const writer = new PageWriter(pdf, await embedFonts(pdf), doc.tenantName);
  writer.text(doc.title, { bold: true, size: 16 });
  for (const paragraph of paragraphsOf(doc.body)) writer.text(paragraph, { gapBefore: 10 });
  writer.drawFooters(doc.reference);
  return pdf.save({ useObjectStreams: false });
}

function paragraphsOf(body: string): string[] {
  return body
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((p) => p.replace(/^\n+|\s+$/g, ''))
    .filter((p) => p.length > 0);
}

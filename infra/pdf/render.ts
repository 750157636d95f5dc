import { PDFDocument, StandardFonts, type PDFFont } from 'pdf-lib';

// STAND-IN (H5 owns infra/pdf): same name and signature as the PDF layer's; the merge keeps H5's.

export interface ContractDoc {
  title: string;
  body: string;
  tenantName: string;
  reference: string;
}

const PAGE = { width: 595.28, height: 841.89, margin: 56 };

// Helvetica speaks WinAnsi: Portuguese letters pass, anything it cannot encode becomes '?'.
export function encodable(font: PDFFont, text: string): string {
  return [...text].map((ch) => {
    try {
      font.encodeText(ch);
      return ch;
    } catch {
      return '?';
    }
  }).join('');
}

export function wrap(font: PDFFont, text: string, size: number, width: number): string[] {
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    let line = '';
    for (const word of raw.split(/\s+/).filter(Boolean)) {
      const next = line ? `${line} ${word}` : word;
      if (font.widthOfTextAtSize(next, size) > width && line) {
        lines.push(line);
        line = word;
      } else line = next;
    }
    lines.push(line);
  }
  return lines;
}

export async function writeParagraphs(pdf: PDFDocument, heading: string, paragraphs: string[], footer: string): Promise<void> {
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const width = PAGE.width - 2 * PAGE.margin;
  let page = pdf.addPage([PAGE.width, PAGE.height]);
  let y = PAGE.height - PAGE.margin;
  const newPage = () => {
    page.drawText(encodable(font, footer), { x: PAGE.margin, y: PAGE.margin / 2, size: 8, font });
    page = pdf.addPage([PAGE.width, PAGE.height]);
    y = PAGE.height - PAGE.margin;
  };
  for (const line of wrap(bold, encodable(bold, heading), 14, width)) {
    page.drawText(line, { x: PAGE.margin, y, size: 14, font: bold });
    y -= 20;
  }
  y -= 10;
  for (const paragraph of paragraphs) {
    for (const line of wrap(font, encodable(font, paragraph), 10, width)) {
      if (y < PAGE.margin + 20) newPage();
      page.drawText(line, { x: PAGE.margin, y, size: 10, font });
      y -= 14;
    }
    y -= 8;
  }
  page.drawText(encodable(font, footer), { x: PAGE.margin, y: PAGE.margin / 2, size: 8, font });
}

export async function renderContractPdf(doc: ContractDoc): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(doc.title);
  pdf.setProducer('Orquestra');
  pdf.setCreator(doc.tenantName);
  // A fixed date: the same contract renders to the same bytes (and the same SHA-256).
  pdf.setCreationDate(new Date(0));
  pdf.setModificationDate(new Date(0));
  const paragraphs = doc.body.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  await writeParagraphs(pdf, doc.title, paragraphs, `${doc.tenantName} · ${doc.reference}`);
  return pdf.save({ useObjectStreams: false });
}

import { PDFDocument, PDFFont, PDFPage, StandardFonts, rgb } from 'pdf-lib';

// A4 in points; margins leave room for the header and the footer.
export const A4: [number, number] = [595.28, 841.89];
const MARGIN_X = 56;
const TOP = A4[1] - 80;
const BOTTOM = 72;
const HEADER_Y = A4[1] - 44;
const FOOTER_Y = 36;

// Nothing variable: a re-run of the same activity must produce the same bytes (and hash).
export const FIXED_PDF_DATE = new Date('2000-01-01T00:00:00.000Z');

export interface Fonts {
  regular: PDFFont;
  bold: PDFFont;
}

export async function embedFonts(doc: PDFDocument): Promise<Fonts> {
  return { regular: await doc.embedFont(StandardFonts.Helvetica), bold: await doc.embedFont(StandardFonts.HelveticaBold) };
}

/**
 * Makes text drawable with a standard (WinAnsi) font: pdf-lib throws on any character the
 * encoding lacks. Accented letters of pt-BR are in WinAnsi; a character outside it loses its
 * diacritics when that helps (ă → a), else becomes '?'. Control characters go.
 */
export function toWinAnsi(text: string, font: PDFFont): string {
  const supported = charsetOf(font);
  let out = '';
  for (const ch of text.normalize('NFC')) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '\t') out += ' ';
    else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) continue;
    else if (supported.has(cp)) out += ch;
    else {
      const base = ch.normalize('NFD').replace(/\p{M}/gu, '');
      out += base && [...base].every((c) => supported.has(c.codePointAt(0) as number)) ? base : '?';
    }
  }
  return out;
}

const charsets = new WeakMap<PDFFont, Set<number>>();
function charsetOf(font: PDFFont): Set<number> {
  let set = charsets.get(font);
  if (!set) {
    set = new Set(font.getCharacterSet());
    charsets.set(font, set);
  }
  return set;
}

/** Greedy word wrap; a word longer than the line (a hash, a user agent) is cut by characters. */
export function wrapText(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  const fits = (s: string) => font.widthOfTextAtSize(s, size) <= width;
  for (const word of text.split(/ +/)) {
    const candidate = line ? `${line} ${word}` : word;
    if (fits(candidate)) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    line = '';
    let rest = word;
    while (rest && !fits(rest)) {
      let n = rest.length - 1;
      while (n > 1 && !fits(rest.slice(0, n))) n--;
      lines.push(rest.slice(0, n));
      rest = rest.slice(n);
    }
    line = rest;
  }
  lines.push(line);
  return lines;
}

export interface TextStyle {
  bold?: boolean;
  size?: number;
  indent?: number;
  gapBefore?: number;
}

/**
 * Lays text out top to bottom over as many pages as it needs, each with the header; footers are
 * drawn at the end because they carry the page count.
 */
export class PageWriter {
  readonly pages: PDFPage[] = [];
  private page!: PDFPage;
  private y = 0;

  constructor(
    private readonly doc: PDFDocument,
    private readonly fonts: Fonts,
    private readonly header: string,
  ) {
    this.newPage();
  }

  newPage(): void {
    this.page = this.doc.addPage(A4);
    this.pages.push(this.page);
    const header = toWinAnsi(this.header, this.fonts.regular);
    this.page.drawText(header, { x: MARGIN_X, y: HEADER_Y, size: 9, font: this.fonts.regular, color: rgb(0.35, 0.35, 0.35) });
    this.page.drawLine({ start: { x: MARGIN_X, y: HEADER_Y - 6 }, end: { x: A4[0] - MARGIN_X, y: HEADER_Y - 6 }, thickness: 0.5, color: rgb(0.6, 0.6, 0.6) });
    this.y = TOP;
  }

  /** A paragraph: single newlines are kept as line breaks, long lines wrap. */
  text(text: string, style: TextStyle = {}): void {
    const font = style.bold ? this.fonts.bold : this.fonts.regular;
    const size = style.size ?? 11;
    const leading = size * 1.4;
    const indent = style.indent ?? 0;
    const width = A4[0] - 2 * MARGIN_X - indent;
    if (style.gapBefore && this.y !== TOP) this.y -= style.gapBefore;
    for (const hardLine of text.split(/\r?\n/)) {
      for (const line of wrapText(toWinAnsi(hardLine, font).trimEnd(), font, size, width)) {
        if (this.y - size < BOTTOM) this.newPage();
        this.y -= size;
        if (line) this.page.drawText(line, { x: MARGIN_X + indent, y: this.y, size, font });
        this.y -= leading - size;
      }
    }
  }

  /** Writes "`prefix` — página N de M" at the foot of each page this writer made. */
  drawFooters(prefix: string): void {
    const total = this.pages.length;
    this.pages.forEach((page, i) => {
      const footer = toWinAnsi(`${prefix} — página ${i + 1} de ${total}`, this.fonts.regular);
      const width = this.fonts.regular.widthOfTextAtSize(footer, 9);
      page.drawText(footer, { x: (A4[0] - width) / 2, y: FOOTER_Y, size: 9, font: this.fonts.regular, color: rgb(0.35, 0.35, 0.35) });
    });
  }
}

export function setFixedMetadata(doc: PDFDocument, title: string, at: Date): void {
  doc.setTitle(toWinAnsiPlain(title), { showInWindowTitleBar: false });
  doc.setCreator('Orquestra');
  doc.setProducer('Orquestra (pdf-lib)');
  doc.setCreationDate(at);
  doc.setModificationDate(at);
}

// Metadata strings are UTF-16 in pdf-lib, so only control characters need to go.
function toWinAnsiPlain(text: string): string {
  return [...text].map((ch) => ((ch.codePointAt(0) as number) < 0x20 || ch === '\u007f' ? ' ' : ch)).join('');
}

import { PDFArray, PDFDocument, PDFName, PDFRawStream, PDFRef, decodePDFRawStream } from 'pdf-lib';

// The decoded content streams of each page, as bytes: what a viewer draws.
export async function pageContents(pdf: Uint8Array): Promise<Buffer[]> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  return doc.getPages().map((page) => {
    const contents = page.node.get(PDFName.of('Contents'));
    const refs = contents instanceof PDFArray ? contents.asArray() : [contents];
    return Buffer.concat(
      refs.map((ref) => {
        const stream = ref instanceof PDFRef ? doc.context.lookup(ref) : ref;
        if (!(stream instanceof PDFRawStream)) throw new Error('unexpected page content');
        return Buffer.from(decodePDFRawStream(stream).decode());
      }),
    );
  });
}

// The text lines a page draws with a standard font (pdf-lib writes them as WinAnsi hex strings),
// read as Latin-1, which agrees with WinAnsi on the pt-BR letters.
export function drawnLines(content: Buffer): string[] {
  return [...content.toString('latin1').matchAll(/<([0-9A-Fa-f]*)> Tj/g)].map((m) => winAnsiToText(Buffer.from(m[1] as string, 'hex')));
}

export async function pageTexts(pdf: Uint8Array): Promise<string[][]> {
  return (await pageContents(pdf)).map(drawnLines);
}

const WIN_ANSI_EXTRA: Record<number, string> = { 0x96: '–', 0x97: '—', 0x93: '“', 0x94: '”', 0x95: '•', 0x80: '€', 0x85: '…' };
function winAnsiToText(bytes: Buffer): string {
  return [...bytes].map((b) => WIN_ANSI_EXTRA[b] ?? String.fromCharCode(b)).join('');
}

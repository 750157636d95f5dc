import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { A4, toWinAnsi, wrapText } from '../../infra/pdf/layout';
import { renderContractPdf } from '../../infra/pdf/render';
import { countPages, sha256Hex } from '../../infra/pdf/verify';
import { pageContents, pageTexts } from './pdf-support';

const clause = (n: number) =>
  `Cláusula ${n}ª — O LOCATÁRIO declara ciência de que a ação de despejo, a multa e a correção ` +
  'monetária seguem o índice pactuado; você, o fiador, responde solidariamente até a devolução das chaves. '.repeat(3);
const longBody = Array.from({ length: 40 }, (_, i) => clause(i + 1)).join('\n\n');
const base = { title: 'Contrato de locação residencial — Apto 101', tenantName: 'Imobiliária São João', reference: 'CT-2026-0042' };

describe('renderContractPdf', () => {
  it('gives the same bytes for the same input, so a retried activity stores the same hash', async () => {
    const a = await renderContractPdf({ ...base, body: longBody });
    const b = await renderContractPdf({ ...base, body: longBody });
    assert.ok(Buffer.from(a).equals(Buffer.from(b)));
    assert.equal(sha256Hex(a), sha256Hex(b));
    const other = await renderContractPdf({ ...base, body: `${longBody}\n\nCláusula extra.` });
    assert.notEqual(sha256Hex(other), sha256Hex(a), 'a different body is a different document');
  });

  it('writes createdAt as the creation date, a fixed date without it', async () => {
    const createdAt = new Date('2026-11-30T13:00:00.000Z');
    const withDate = await PDFDocument.load(await renderContractPdf({ ...base, body: 'Texto.', createdAt }), { updateMetadata: false });
    assert.equal(withDate.getCreationDate()?.toISOString(), createdAt.toISOString());
    assert.equal(withDate.getModificationDate()?.toISOString(), createdAt.toISOString());
    const without = await PDFDocument.load(await renderContractPdf({ ...base, body: 'Texto.' }), { updateMetadata: false });
    assert.equal(without.getCreationDate()?.toISOString(), '2000-01-01T00:00:00.000Z');
    assert.equal(without.getTitle(), base.title);
  });

  it('breaks a long body over pages, each with the tenant header and "reference — página N de M"', async () => {
    const pdf = await renderContractPdf({ ...base, body: longBody });
    const pages = await countPages(pdf);
    assert.ok(pages >= 4, `40 long clauses fill several pages (got ${pages})`);
    const texts = await pageTexts(pdf);
    assert.equal(texts.length, pages);
    texts.forEach((lines, i) => {
      assert.equal(lines[0], base.tenantName, `header on page ${i + 1}`);
      assert.equal(lines.at(-1), `${base.reference} — página ${i + 1} de ${pages}`, `footer on page ${i + 1}`);
    });
    assert.equal(texts[0]?.[1], base.title);
    const body = texts.flatMap((lines) => lines.slice(1, -1)).join(' ');
    for (let n = 1; n <= 40; n++) assert.ok(body.includes(`Cláusula ${n}ª — O LOCATÁRIO`), `clause ${n} is drawn`);
    const a4 = (await PDFDocument.load(pdf)).getPage(pages - 1).getSize();
    assert.deepEqual([a4.width, a4.height], A4);
  });

  it('draws pt-BR accents as WinAnsi bytes and replaces what WinAnsi lacks instead of throwing', async () => {
    const pdf = await renderContractPdf({
      ...base,
      title: 'Contrato de prestação de serviços',
      body: 'Ação, coração, pôr, você, maçã, Ônibus, ÁÉÍÓÚ ÂÊÔ ÃÕ Ç à ü.\n\nRomênia: Ştefan ăla; 漢字 😀 fim.\tTab\u0007.',
    });
    const content = (await pageContents(pdf))[0]!.toString('latin1').toUpperCase();
    // "coração" in WinAnsi: c o r a ç(E7) ã(E3) o — drawn as a hex string.
    assert.ok(content.includes(Buffer.from('coração', 'latin1').toString('hex').toUpperCase()), 'ç and ã are in the content stream');
    const lines = (await pageTexts(pdf))[0]!;
    assert.ok(lines.includes('Ação, coração, pôr, você, maçã, Ônibus, ÁÉÍÓÚ ÂÊÔ ÃÕ Ç à ü.'));
    assert.ok(lines.includes('Romênia: Stefan ala; ?? ? fim. Tab.'), `diacritics outside WinAnsi dropped, the rest replaced: ${JSON.stringify(lines)}`);
  });

  it('keeps single line breaks inside a paragraph and skips empty paragraphs', async () => {
    const lines = (await pageTexts(await renderContractPdf({ ...base, body: '\n\nPartes:\nJosé\nMaria\n\n\n   \n\nFim.\r\n' })))[0]!;
    assert.deepEqual(lines.slice(2, -1), ['Partes:', 'José', 'Maria', 'Fim.']);
  });
});

describe('text layout', () => {
  it('wraps within the width and cuts a word longer than the line', async () => {
    const font = await (await PDFDocument.create()).embedFont(StandardFonts.Helvetica);
    const hash = 'a'.repeat(200);
    const text = `Hash do documento: ${hash} conferido`;
    const lines = wrapText(text, font, 10, 200);
    assert.ok(lines.length >= 4);
    for (const line of lines) assert.ok(font.widthOfTextAtSize(line, 10) <= 200, `"${line}" fits`);
    assert.equal(lines.join('').replace(/ /g, ''), text.replace(/ /g, ''), 'nothing lost');
  });

  it('maps text into WinAnsi', async () => {
    const font = await (await PDFDocument.create()).embedFont(StandardFonts.Helvetica);
    assert.equal(toWinAnsi('São “João” – €10 • ok…', font), 'São “João” – €10 • ok…');
    assert.equal(toWinAnsi('Łódź ŝ 中', font), '?ódz s ?');
    assert.doesNotThrow(() => font.encodeText(toWinAnsi('e\u0301 ǅ 😀 \u200b', font)));
  });
});

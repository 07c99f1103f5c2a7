import { Document, Packer, Paragraph } from 'docx';
import JSZip from 'jszip';
import { PDFDocument, StandardFonts } from 'pdf-lib';

/** Real documents made on the fly, so tests read genuine PDF and DOCX bytes. */
export async function pdfWith(lines: string[]): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  const page = document.addPage();
  for (const [index, line] of lines.entries()) page.drawText(line, { x: 50, y: 750 - index * 20, size: 12, font });
  return document.save();
}

export async function docxWith(paragraphs: string[]): Promise<Uint8Array> {
  const document = new Document({ sections: [{ children: paragraphs.map((text) => new Paragraph(text)) }] });
  return new Uint8Array(await Packer.toBuffer(document));
}

/** A 1×1 PNG. */
export const tinyPng = Uint8Array.from(
  Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'),
);

/** The start of an x86-64 ELF executable. */
export const elfBytes = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(56).fill(0)]);

export const file = (bytes: Uint8Array | string, name: string, type = 'text/plain') => new File([bytes as BlobPart], name, { type });

/**
 * A DOCX whose document part inflates to `inflatedBytes` of one long run of
 * text, from a few kilobytes of archive. With `understate`, the archive's
 * headers claim the part is a hundred bytes, as a crafted bomb would.
 */
export async function docxBomb(inflatedBytes: number, { understate = false } = {}): Promise<Uint8Array> {
  const archive = await JSZip.loadAsync(await docxWith(['x']));
  const open =
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>';
  const close = '</w:t></w:r></w:p></w:body></w:document>';
  archive.file('word/document.xml', open + 'A'.repeat(inflatedBytes - open.length - close.length) + close);
  const bytes = new Uint8Array(await archive.generateAsync({ type: 'uint8array', compression: 'DEFLATE', compressionOptions: { level: 9 } }));
  if (understate) claimSize(bytes, 'word/document.xml', 100);
  return bytes;
}

/** Rewrites the uncompressed size the local header and the central directory give for one entry. */
function claimSize(bytes: Uint8Array, name: string, size: number) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nameAt = (offset: number, length: number) => new TextDecoder().decode(bytes.subarray(offset, offset + length));
  for (let offset = 0; offset + 46 <= bytes.length; offset++) {
    const signature = view.getUint32(offset, true);
    if (signature === 0x04034b50 && nameAt(offset + 30, view.getUint16(offset + 26, true)) === name) view.setUint32(offset + 22, size, true);
    if (signature === 0x02014b50 && nameAt(offset + 46, view.getUint16(offset + 28, true)) === name) view.setUint32(offset + 24, size, true);
  }
}

/** A PDF of `count` pages, each with one line. */
export async function pdfPages(count: number, line = 'A page of text.'): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  for (let index = 0; index < count; index++) document.addPage().drawText(line, { x: 50, y: 750, size: 12, font });
  return document.save();
}

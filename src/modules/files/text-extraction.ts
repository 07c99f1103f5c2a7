import { convert as htmlToText } from 'html-to-text';
import JSZip from 'jszip';
import mammoth from 'mammoth';
import { getDocumentProxy } from 'unpdf';
import { badInput, UserFacingError } from '../../lib/errors.js';
import type { FileKind } from './file-types.js';

/** Bounds on what one upload may turn into, so a small file cannot inflate into work without end. */
export interface ExtractionLimits {
  /** Characters of text a file may yield. */
  maxChars: number;
  /** Bytes the parts of a DOCX archive may inflate to, all parts together. */
  maxUnzippedBytes: number;
  /** Pages of a PDF. */
  maxPdfPages: number;
}

export const defaultExtractionLimits: ExtractionLimits = { maxChars: 2_000_000, maxUnzippedBytes: 64 * 1024 * 1024, maxPdfPages: 2_000 };

const tooLarge = (key: string, limit: number) => new UserFacingError('PAYLOAD_TOO_LARGE', key, { limit }, { limit });
export const textTooLong = (limit: number) => tooLarge('files.textTooLong', limit);

/** The text a model reads from a file; images have none (they go to vision models as pixels). */
export async function extractText(bytes: Uint8Array, kind: FileKind, limits: ExtractionLimits = defaultExtractionLimits): Promise<string | null> {
  const capped = (text: string) => {
    if (text.length > limits.maxChars) throw textTooLong(limits.maxChars);
    return text;
  };
  try {
    switch (kind) {
      case 'text':
        return capped(new TextDecoder().decode(bytes));
      case 'html':
        return capped(htmlToText(new TextDecoder().decode(bytes), { wordwrap: false, selectors: [{ selector: 'img', format: 'skip' }] }));
      case 'pdf':
        return capped(await pdfText(bytes, limits));
      case 'docx':
        return capped((await mammoth.extractRawText({ buffer: await inflatedWithin(bytes, limits.maxUnzippedBytes) })).value);
      case 'image':
        return null;
    }
  } catch (error) {
    if (error instanceof UserFacingError) throw error;
    throw badInput('files.unreadable', { kind: kind.toUpperCase() });
  }
}

/**
 * The archive again with every part inflated and stored uncompressed, or a
 * refusal once the parts pass `limit` bytes. The sizes an archive declares are
 * checked first and then the inflation itself is cut off at the limit, since
 * a crafted archive can declare less than it holds.
 */
async function inflatedWithin(bytes: Uint8Array, limit: number): Promise<Buffer> {
  const archive = await JSZip.loadAsync(bytes);
  const entries = Object.values(archive.files).filter((entry) => !entry.dir);
  const declared = entries.reduce((total, entry) => total + declaredSize(entry), 0);
  if (declared > limit) throw tooLarge('files.inflatesTooLarge', limit);
  const rebuilt = new JSZip();
  let total = 0;
  for (const entry of entries) {
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = entry.nodeStream('nodebuffer');
      stream.on('data', (chunk: Buffer) => {
        total += chunk.byteLength;
        if (total <= limit) return void chunks.push(chunk);
        stream.pause();
        stream.removeAllListeners('data');
        reject(tooLarge('files.inflatesTooLarge', limit));
      });
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    rebuilt.file(entry.name, Buffer.concat(chunks));
  }
  return rebuilt.generateAsync({ type: 'nodebuffer', compression: 'STORE' });
}

/** The uncompressed size the archive's directory gives for an entry (JSZip keeps it on the entry without typing it). */
const declaredSize = (entry: JSZip.JSZipObject) => (entry as unknown as { _data?: { uncompressedSize?: number } })._data?.uncompressedSize ?? 0;

/** The text of a PDF page by page, stopping as soon as it passes the character limit. */
async function pdfText(bytes: Uint8Array, limits: ExtractionLimits): Promise<string> {
  const pdf = await getDocumentProxy(new Uint8Array(bytes));
  try {
    if (pdf.numPages > limits.maxPdfPages) throw tooLarge('files.tooManyPages', limits.maxPdfPages);
    const pages: string[] = [];
    let length = 0;
    for (let number = 1; number <= pdf.numPages; number++) {
      const page = await pdf.getPage(number);
      const content = await page.getTextContent();
      const text = (content.items as { str?: string; hasEOL?: boolean }[])
        .map((item) => (item.str == null ? '' : item.str + (item.hasEOL ? '\n' : '')))
        .join('');
      page.cleanup();
      // Runs of whitespace collapse at the end, so the raw text may run to twice the limit before it is refused early.
      length += text.length + 1;
      if (length > limits.maxChars * 2) throw textTooLong(limits.maxChars);
      pages.push(text);
    }
    return pages.join('\n').replace(/\s+/g, ' ');
  } finally {
    await pdf.destroy();
  }
}

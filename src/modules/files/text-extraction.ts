import { convert as htmlToText } from 'html-to-text';
import mammoth from 'mammoth';
import { extractText as extractPdfText, getDocumentProxy } from 'unpdf';
import { badInput } from '../../lib/errors.js';
import type { FileKind } from './file-types.js';

/** The text a model reads from a file; images have none (they go to vision models as pixels). */
export async function extractText(bytes: Uint8Array, kind: FileKind): Promise<string | null> {
  try {
    switch (kind) {
      case 'text':
        return new TextDecoder().decode(bytes);
      case 'html':
        return htmlToText(new TextDecoder().decode(bytes), { wordwrap: false, selectors: [{ selector: 'img', format: 'skip' }] });
      case 'pdf': {
        const pdf = await getDocumentProxy(new Uint8Array(bytes));
        const { text } = await extractPdfText(pdf, { mergePages: true });
        return text;
      }
      case 'docx':
        return (await mammoth.extractRawText({ buffer: Buffer.from(bytes) })).value;
      case 'image':
        return null;
    }
  } catch {
    throw badInput('files.unreadable', { kind: kind.toUpperCase() });
  }
}

import { fileTypeFromBuffer } from 'file-type';
import { badInput } from '../../lib/errors.js';

export type FileKind = 'text' | 'html' | 'pdf' | 'docx' | 'image';

export const acceptedTypes: Record<string, FileKind> = {
  'text/plain': 'text',
  'text/markdown': 'text',
  'text/csv': 'text',
  'application/json': 'text',
  'text/html': 'html',
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'image/png': 'image',
  'image/jpeg': 'image',
  'image/webp': 'image',
  'image/gif': 'image',
};

function decodeUtf8(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Which text format a UTF-8 text is, from its content (the name only tells Markdown from plain text). */
function textFormat(text: string, filename: string): string {
  const start = text.trimStart().slice(0, 512).toLowerCase();
  if (start.startsWith('<!doctype html') || start.startsWith('<html') || /<(body|head|div|p)[\s>]/.test(start)) return 'text/html';
  if (/^[[{]/.test(start)) {
    try {
      JSON.parse(text);
      return 'application/json';
    } catch {
      // not JSON after all
    }
  }
  const lines = text
    .split(/\r?\n/)
    .filter((line) => line.trim())
    .slice(0, 20);
  const commas = lines.map((line) => (line.match(/,/g) ?? []).length);
  if (lines.length >= 2 && commas[0]! > 0 && commas.every((count) => count === commas[0])) return 'text/csv';
  if (/\.(md|markdown)$/i.test(filename) || /^(#{1,6} |\s*[-*] |```)/m.test(text)) return 'text/markdown';
  return 'text/plain';
}

/** The type of a file from its bytes, never from its name or the client's claim; anything else is refused naming what it is. */
export async function detectType(bytes: Uint8Array, filename: string): Promise<{ mimeType: string; kind: FileKind }> {
  const sniffed = await fileTypeFromBuffer(bytes);
  // ZIP-based Office files and plain text have no magic number of their own worth trusting beyond these.
  const mimeType = sniffed?.mime ?? (decodeUtf8(bytes) !== null ? textFormat(decodeUtf8(bytes)!, filename) : 'application/octet-stream');
  const kind = acceptedTypes[mimeType];
  if (!kind)
    throw badInput(
      'files.unsupportedType',
      { type: mimeType, accepted: 'text, Markdown, CSV, JSON, HTML, PDF, DOCX, PNG, JPEG, WebP, GIF' },
      { detectedType: mimeType },
    );
  return { mimeType, kind };
}

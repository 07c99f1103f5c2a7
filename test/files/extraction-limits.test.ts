import JSZip from 'jszip';
import { describe, expect, test } from 'vitest';
import { UserFacingError } from '../../src/lib/errors.js';
import { type ExtractionLimits, extractText } from '../../src/modules/files/text-extraction.js';
import { docxBomb, docxWith, pdfPages, pdfWith } from './fixtures.js';

const limits: ExtractionLimits = { maxChars: 10_000, maxUnzippedBytes: 1024 * 1024, maxPdfPages: 5 };

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(UserFacingError);
  const { code, messageKey, extensions } = error as UserFacingError;
  return { code, messageKey, limit: extensions.limit };
}

describe('extracted text is capped', () => {
  test('plain text and HTML past the character limit are refused, naming it', async () => {
    expect(await refusal(extractText(new TextEncoder().encode('word '.repeat(2_001)), 'text', limits))).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      messageKey: 'files.textTooLong',
      limit: 10_000,
    });
    const html = new TextEncoder().encode(`<html><body><p>${'word '.repeat(2_100)}</p></body></html>`);
    expect((await refusal(extractText(html, 'html', limits))).messageKey).toBe('files.textTooLong');
  });

  test('text within the limit is kept whole', async () => {
    expect(await extractText(new TextEncoder().encode('word '.repeat(2_000)), 'text', limits)).toHaveLength(10_000);
    expect(await extractText(await docxWith(['Minutes of the meeting.']), 'docx', limits)).toContain('Minutes of the meeting.');
    expect(await extractText(await pdfPages(5), 'pdf', limits)).toContain('A page of text.');
  });

  test('a PDF past the character limit is refused', async () => {
    const lines = Array.from({ length: 40 }, () => 'x'.repeat(120));
    expect((await refusal(extractText(await pdfWith(lines), 'pdf', { ...limits, maxChars: 2_000 }))).messageKey).toBe('files.textTooLong');
  });

  test('a PDF with more pages than the limit is refused before its text is read', async () => {
    expect(await refusal(extractText(await pdfPages(6), 'pdf', limits))).toEqual({ code: 'PAYLOAD_TOO_LARGE', messageKey: 'files.tooManyPages', limit: 5 });
  });
});

describe('DOCX decompression is bounded', () => {
  test('a bomb is refused from the sizes its archive declares', async () => {
    const bomb = await docxBomb(8 * 1024 * 1024);
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    expect(await refusal(extractText(bomb, 'docx', limits))).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      messageKey: 'files.inflatesTooLarge',
      limit: 1024 * 1024,
    });
  });

  test('a bomb whose headers understate its size is cut off while it inflates', async () => {
    const bomb = await docxBomb(8 * 1024 * 1024, { understate: true });
    const declared = (await JSZip.loadAsync(bomb)).file('word/document.xml') as unknown as { _data: { uncompressedSize: number } };
    expect(declared._data.uncompressedSize).toBe(100);
    expect((await refusal(extractText(bomb, 'docx', limits))).messageKey).toBe('files.inflatesTooLarge');
  });

  test('a document that unpacks within the limit but holds too much text is refused by the text limit', async () => {
    const document = await docxBomb(200_000);
    expect((await refusal(extractText(document, 'docx', limits))).messageKey).toBe('files.textTooLong');
  });
});

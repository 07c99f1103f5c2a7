import * as mupdf from 'mupdf';
import { PNG } from 'pngjs';
import { extractText, getDocumentProxy } from 'unpdf';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { codeOf, startGateway, type Gateway } from '../support/harness.js';
import { CHAT } from '../support/operations.js';

const EXPORT = /* GraphQL */ `
  mutation ($id: ID!, $format: ExportFormat!, $messageId: ID, $secret: String) {
    exportConversation(id: $id, format: $format, messageId: $messageId, secret: $secret) { url mimeType size expiresAt }
  }
`;

const MARKDOWN_REPLY = [
  '## Feeding plan',
  '',
  'Give each llama **hay** twice a day.',
  '',
  '```js',
  'const balesPerLlama = 42;',
  '```',
  '',
  '| Animal | Bales |',
  '| --- | --- |',
  '| Llama | 42 |',
  '| Alpaca | 17 |',
].join('\n');

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

async function download(url: string, headers: Record<string, string>) {
  const response = await fetch(url, { headers });
  return { status: response.status, type: response.headers.get('content-type'), bytes: new Uint8Array(await response.arrayBuffer()) };
}

/** The first page drawn as a PNG by MuPDF (WebAssembly), decoded again: what a reader would show. */
function firstPageAsPng(bytes: Uint8Array) {
  const page = mupdf.Document.openDocument(bytes, 'application/pdf').loadPage(0);
  const png = page.toPixmap(mupdf.Matrix.scale(1, 1), mupdf.ColorSpace.DeviceRGB, false).asPNG();
  return PNG.sync.read(Buffer.from(png));
}

/** Share of the pixels in a band of rows that are not near white. */
function inkIn(image: PNG, fromRow: number, toRow: number): number {
  let inked = 0;
  for (let y = fromRow; y < toRow; y++)
    for (let x = 0; x < image.width; x++) {
      const offset = (y * image.width + x) * 4;
      if (image.data[offset]! + image.data[offset + 1]! + image.data[offset + 2]! < 600) inked++;
    }
  return inked / ((toRow - fromRow) * image.width);
}

async function pdfText(bytes: Uint8Array): Promise<{ text: string; pages: number }> {
  const pdf = await getDocumentProxy(bytes);
  const { text, totalPages } = await extractText(pdf, { mergePages: true });
  return { text, pages: totalPages };
}

describe('a conversation as a document', () => {
  test('PDF: the roles, headings, code and table cells of the replies are real text, for the owner only', async () => {
    const alice = await gateway.user({ credits: 1_000_000 });
    gateway.upstream.behave({ reply: MARKDOWN_REPLY });
    const sent = await alice.execute(CHAT, { input: { content: 'How much hay do the llamas need?' } });
    expect(sent.errors).toBeUndefined();

    const exported = await alice.execute(EXPORT, { id: sent.data.chat.conversation.id, format: 'PDF' });
    expect(exported.errors).toBeUndefined();
    const { url, mimeType, size, expiresAt } = exported.data.exportConversation;
    expect(mimeType).toBe('application/pdf');
    expect(new Date(expiresAt).getTime()).toBeGreaterThan(Date.now());

    const file = await download(url, alice.headers);
    expect(file).toMatchObject({ status: 200, type: 'application/pdf' });
    expect(file.bytes.byteLength).toBe(size);
    // pdf.js takes over the buffer it is given, so it gets a copy.
    const { text, pages } = await pdfText(file.bytes.slice());
    expect(pages).toBeGreaterThanOrEqual(1);
    for (const expected of [
      'How much hay do the llamas need?',
      'You',
      'Assistant (fake-a)',
      'Feeding plan',
      'Give each llama hay twice a day.',
      'const balesPerLlama = 42;',
      'Alpaca',
      '17',
    ])
      expect(text).toContain(expected);
    // The first page renders: A4 at 72 dpi, ink where the title and the first messages are, a blank bottom margin.
    const page = firstPageAsPng(file.bytes);
    expect(Math.abs(page.width - 595.28)).toBeLessThan(1);
    expect(page.height).toBe(842);
    expect(inkIn(page, 50, 300)).toBeGreaterThan(0.005);
    expect(inkIn(page, 800, 842)).toBe(0);
    // Markup is rendered, not printed.
    expect(text).not.toContain('**');
    expect(text).not.toContain('```');

    const bob = await gateway.user();
    expect((await download(url, bob.headers)).status).toBe(404);
    expect(codeOf(await bob.execute(EXPORT, { id: sent.data.chat.conversation.id, format: 'PDF' }))).toBe('NOT_FOUND');
  });

  test('PDF: text beyond Latin-1 (Cyrillic, Greek, symbols) is real text, not missing glyphs', async () => {
    const alice = await gateway.user({ credits: 1_000_000 });
    const reply = ['## Ответ', '', 'Καλημέρα — ½ € ≤ ∞', '', '| Слово | Λέξη |', '| --- | --- |', '| мир | κόσμος |'].join('\n');
    gateway.upstream.behave({ reply });
    const sent = await alice.execute(CHAT, { input: { content: 'Привет, как дела?' } });
    expect(sent.errors).toBeUndefined();
    const exported = await alice.execute(EXPORT, { id: sent.data.chat.conversation.id, format: 'PDF' });
    expect(exported.errors).toBeUndefined();
    const file = await download(exported.data.exportConversation.url, alice.headers);
    const { text } = await pdfText(file.bytes.slice());
    for (const expected of ['Привет, как дела?', 'Ответ', 'Καλημέρα — ½ € ≤ ∞', 'Слово', 'κόσμος']) expect(text).toContain(expected);
  });

  test('Markdown and JSON, of the whole conversation or of one reply', async () => {
    const alice = await gateway.user({ credits: 1_000_000 });
    gateway.upstream.behave({ reply: 'First answer about ALPACAS.' });
    const first = await alice.execute(CHAT, { input: { content: 'first question' } });
    const conversationId = first.data.chat.conversation.id;
    gateway.upstream.behave({ reply: 'Second answer about VICUNAS.' });
    const second = await alice.execute(CHAT, { input: { content: 'second question', conversationId } });

    const markdown = await alice.execute(EXPORT, { id: conversationId, format: 'MARKDOWN' });
    expect(markdown.data.exportConversation.mimeType).toBe('text/markdown');
    const text = new TextDecoder().decode((await download(markdown.data.exportConversation.url, alice.headers)).bytes);
    expect(text).toMatch(/## You[\s\S]*first question[\s\S]*## Assistant \(fake-a\)[\s\S]*ALPACAS[\s\S]*second question[\s\S]*VICUNAS/);

    const one = await alice.execute(EXPORT, { id: conversationId, format: 'JSON', messageId: second.data.chat.replies[0].id });
    expect(one.data.exportConversation.mimeType).toBe('application/json');
    const json = JSON.parse(new TextDecoder().decode((await download(one.data.exportConversation.url, alice.headers)).bytes));
    expect(json.messages.map((message: { role: string; content: string }) => [message.role, message.content])).toEqual([
      ['USER', 'second question'],
      ['ASSISTANT', 'Second answer about VICUNAS.'],
    ]);
  });

  test('an encrypted conversation needs the secret, and its export keeps no text in the database', async () => {
    const secret = 'correct horse battery staple';
    const alice = await gateway.user({ tier: 'PRO', credits: 5_000_000 });
    gateway.upstream.behave({ reply: 'The code word is MARMALADE.' });
    const sent = await alice.execute(CHAT, { input: { content: 'Remember BLUEBIRD', models: ['fake-private'], secret } });
    expect(sent.errors).toBeUndefined();
    const conversationId = sent.data.chat.conversation.id;

    const refused = await alice.execute(EXPORT, { id: conversationId, format: 'MARKDOWN' });
    expect(codeOf(refused)).toBe('BAD_USER_INPUT');
    const wrong = await alice.execute(EXPORT, { id: conversationId, format: 'MARKDOWN', secret: 'not the secret' });
    expect(codeOf(wrong)).toBeDefined();
    expect(wrong.data?.exportConversation ?? null).toBeNull();

    const opened = await alice.execute(EXPORT, { id: conversationId, format: 'MARKDOWN', secret });
    expect(opened.errors).toBeUndefined();
    // Stored sealed: the download opens with the same secret.
    const text = new TextDecoder().decode((await download(opened.data.exportConversation.url, { ...alice.headers, 'x-encryption-secret': secret })).bytes);
    expect(text).toContain('Remember BLUEBIRD');
    expect(text).toContain('MARMALADE');
    const rows = await gateway.app.services.db.prisma.uploadedFile.findMany({ where: { ownerId: alice.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.text).toBeNull();
  });
});

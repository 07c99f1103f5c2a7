import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { codeOf, eventually, PRO_MODEL, startGateway, type Gateway } from '../support/harness.js';
import { CHAT } from '../support/operations.js';
import { docxBomb, docxWith, elfBytes, file, pdfWith, tinyPng } from './fixtures.js';

const UPLOAD = /* GraphQL */ `mutation ($file: File!, $conversationId: ID) { uploadFile(file: $file, conversationId: $conversationId) { id filename mimeType size tokenCount expiresAt conversation { id } } }`;
const REMOVE = /* GraphQL */ `mutation ($ids: [ID!]!) { removeFiles(ids: $ids) { id filename } }`;
const FILES = /* GraphQL */ `query ($conversationId: ID) { files(conversationId: $conversationId) { id filename } }`;
const CHAT_WITH_ATTACHMENTS = /* GraphQL */ `mutation ($input: SendMessageInput!) { chat(input: $input) { conversation { id files { filename } } userMessage { id attachments { filename mimeType } } replies { content status } } }`;

let gateway: Gateway;
let filesDir: string;
const MAX_FILE = 256 * 1024;
const MAX_TEXT = 250_000;
const MAX_UNZIPPED = 2 * 1024 * 1024;

beforeAll(async () => {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  filesDir = await mkdtemp(path.join(tmpdir(), 'gateway-files-test-'));
  gateway = await startGateway({
    filesDir,
    maxFileBytes: MAX_FILE,
    maxConversationFileBytes: 400 * 1024,
    maxFilesPerRequest: 3,
    maxExtractedChars: MAX_TEXT,
    maxUnzippedBytes: MAX_UNZIPPED,
  });
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

async function storedBlobs(): Promise<string[]> {
  const shards = await readdir(filesDir).catch(() => [] as string[]);
  return (await Promise.all(shards.map((shard) => readdir(path.join(filesDir, shard))))).flat();
}
const upstreamUserContent = () => {
  const messages = gateway.upstream.requests.filter((request) => request.path.endsWith('/chat/completions')).at(-1)!.body.messages;
  return messages.at(-1).content;
};

describe('types come from the bytes', () => {
  test.each([
    ['notes.txt', 'Plain words about llamas.', 'text/plain'],
    ['readme', '# Title\n\n- item one\n- item two', 'text/markdown'],
    ['table.dat', 'name,age\nada,36\ngrace,45', 'text/csv'],
    ['data.txt', '{"llamas": 3}', 'application/json'],
    ['page.bin', '<!doctype html><html><body><p>Hello <b>llamas</b></p></body></html>', 'text/html'],
  ])('%s is %s', async (name, content, expected) => {
    const result = await gateway.guest().upload(UPLOAD, { file: null }, { file: file(content, name, 'application/octet-stream') });
    expect(result.data.uploadFile).toMatchObject({ filename: name, mimeType: expected, size: Buffer.byteLength(content) });
    expect(result.data.uploadFile.tokenCount).toBeGreaterThan(0);
  });

  test('PDF, DOCX and PNG are recognised whatever the client claims', async () => {
    const guest = gateway.guest();
    const pdf = await guest.upload(UPLOAD, { file: null }, { file: file(await pdfWith(['Quarterly revenue grew 12 percent.']), 'report.txt', 'text/plain') });
    expect(pdf.data.uploadFile.mimeType).toBe('application/pdf');
    const docx = await guest.upload(UPLOAD, { file: null }, { file: file(await docxWith(['Minutes of the meeting.']), 'minutes.pdf', 'application/pdf') });
    expect(docx.data.uploadFile.mimeType).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    const png = await guest.upload(UPLOAD, { file: null }, { file: file(tinyPng, 'pixel.jpg', 'image/jpeg') });
    expect(png.data.uploadFile).toMatchObject({ mimeType: 'image/png', tokenCount: 765 });
  });

  test('an executable named .txt is refused, naming its type, and nothing is kept', async () => {
    const before = await storedBlobs();
    const result = await gateway.guest().upload(UPLOAD, { file: null }, { file: file(elfBytes, 'innocent.txt') });
    expect(result.status).toBe(400);
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('application/x-elf');
    expect(await storedBlobs()).toEqual(before);
  });
});

describe('limits', () => {
  test('a file whose text passes MAX_EXTRACTED_CHARS is refused: 413 naming the limit, nothing kept', async () => {
    const rowsBefore = await gateway.app.services.db.prisma.uploadedFile.count();
    const blobsBefore = await storedBlobs();
    const result = await gateway.guest().upload(UPLOAD, { file: null }, { file: file('ab '.repeat(MAX_TEXT / 3 + 1), 'long.txt') });
    expect(result.status).toBe(413);
    expect(codeOf(result)).toBe('PAYLOAD_TOO_LARGE');
    expect(result.errors![0]!.extensions).toMatchObject({ limit: MAX_TEXT });
    expect(result.errors![0]!.message).toContain(String(MAX_TEXT));
    expect(await gateway.app.services.db.prisma.uploadedFile.count()).toBe(rowsBefore);
    expect(await storedBlobs()).toEqual(blobsBefore);
  });

  test("a multipart request past its total limit is the same coded 413, in the caller's language", async () => {
    const bytes = 13 * 1024 * 1024;
    const result = await gateway
      .guest({ 'accept-language': 'fr' })
      .upload(
        /* GraphQL */ `mutation ($a: File!, $b: File!) { a: uploadFile(file: $a) { id } b: uploadFile(file: $b) { id } }`,
        { a: null, b: null },
        { a: file('a'.repeat(bytes), 'a.txt'), b: file('b'.repeat(bytes), 'b.txt') },
      );
    expect(result.status).toBe(413);
    expect(codeOf(result)).toBe('PAYLOAD_TOO_LARGE');
    expect(result.errors![0]!.message).toContain('octets');
  });

  test('a DOCX bomb of a few kilobytes is refused before it unpacks past MAX_UNZIPPED_BYTES', async () => {
    const bomb = await docxBomb(8 * 1024 * 1024, { understate: true });
    const result = await gateway.guest().upload(UPLOAD, { file: null }, { file: file(bomb, 'minutes.docx') });
    expect(result.status).toBe(413);
    expect(codeOf(result)).toBe('PAYLOAD_TOO_LARGE');
    expect(result.errors![0]!.extensions).toMatchObject({ limit: MAX_UNZIPPED });
    expect(result.errors![0]!.message).toContain(String(MAX_UNZIPPED));
  });

  test('an oversized file is refused while it streams in: 413, and no bytes or rows remain', async () => {
    const guest = gateway.guest();
    const rowsBefore = await gateway.app.services.db.prisma.uploadedFile.count();
    const blobsBefore = await storedBlobs();
    const result = await guest.upload(UPLOAD, { file: null }, { file: file('x'.repeat(MAX_FILE + 1), 'big.txt') });
    expect(result.status).toBe(413);
    expect(codeOf(result)).toBe('PAYLOAD_TOO_LARGE');
    expect(result.errors![0]!.message).toContain(String(MAX_FILE));
    expect(await gateway.app.services.db.prisma.uploadedFile.count()).toBe(rowsBefore);
    expect(await storedBlobs()).toEqual(blobsBefore);
  });

  test('more files in one request than allowed is 413', async () => {
    const files = Object.fromEntries([0, 1, 2, 3].map((index) => [`input.attachments.${index}`, file(`file ${index}`, `f${index}.txt`)]));
    const result = await gateway.guest().upload(CHAT_WITH_ATTACHMENTS, { input: { content: 'four files', attachments: [null, null, null, null] } }, files);
    expect(result.status).toBe(413);
    expect(codeOf(result)).toBe('PAYLOAD_TOO_LARGE');
  });

  test("a conversation's files have a total size limit", async () => {
    const guest = gateway.guest();
    const conversation = (await guest.execute(CHAT, { input: { content: 'start' } })).data.chat.conversation.id;
    const upload = (index: number) =>
      guest.upload(UPLOAD, { file: null, conversationId: conversation }, { file: file(`${index}`.padEnd(200 * 1024, 'y'), `part${index}.txt`) });
    expect((await upload(1)).errors).toBeUndefined();
    expect((await upload(2)).errors).toBeUndefined();
    const third = await upload(3);
    expect(codeOf(third)).toBe('PAYLOAD_TOO_LARGE');
    expect((await guest.execute(FILES, { conversationId: conversation })).data.files).toHaveLength(2);
  });

  test('files attached by id or inline count towards the total too, and a refused turn stores nothing', async () => {
    const guest = gateway.guest();
    const conversation = (await guest.execute(CHAT, { input: { content: 'start' } })).data.chat.conversation.id;
    // Padded PNGs: big in bytes, small in tokens, so only the size limit can refuse them.
    const image = (index: number) => Uint8Array.from([...tinyPng, ...new Uint8Array(150 * 1024).fill(index)]);
    const loose = (index: number) => guest.upload(UPLOAD, { file: null }, { file: file(image(index), `loose${index}.png`, 'image/png') });
    const ids = [(await loose(1)).data.uploadFile.id, (await loose(2)).data.uploadFile.id, (await loose(3)).data.uploadFile.id];
    const byId = await guest.execute(CHAT, { input: { content: 'read these', conversationId: conversation, fileIds: ids } });
    expect(codeOf(byId)).toBe('PAYLOAD_TOO_LARGE');
    expect((await guest.execute(FILES, { conversationId: conversation })).data.files).toHaveLength(0);
    const messages = await gateway.app.services.db.prisma.message.count({
      where: { conversationId: Buffer.from(conversation, 'base64url').toString().split(':')[1]! },
    });
    expect(messages).toBe(2);
    // The loose files are untouched and still expire on their own.
    const unattached = await guest.execute(`{ files { id expiresAt conversation { id } } }`);
    expect(unattached.data.files.filter((entry: any) => ids.includes(entry.id)).every((entry: any) => entry.expiresAt && !entry.conversation)).toBe(true);

    const inline = [4, 5, 6].map((index) => file(image(index), `inline${index}.png`, 'image/png'));
    const fresh = await guest.upload(
      CHAT_WITH_ATTACHMENTS,
      { input: { content: 'new chat', attachments: [null, null, null] } },
      { 'input.attachments.0': inline[0]!, 'input.attachments.1': inline[1]!, 'input.attachments.2': inline[2]! },
    );
    expect(codeOf(fresh)).toBe('PAYLOAD_TOO_LARGE');
    expect((await guest.execute(`{ conversations { totalCount } }`)).data.conversations.totalCount).toBe(1);

    const withinLimit = await guest.execute(CHAT, { input: { content: 'two will do', conversationId: conversation, fileIds: ids.slice(0, 2) } });
    expect(withinLimit.errors).toBeUndefined();
    expect((await guest.execute(FILES, { conversationId: conversation })).data.files).toHaveLength(2);
  });
});

describe('files in a chat', () => {
  test('the extracted text of a PDF and a DOCX reaches the model, after the message', async () => {
    const guest = gateway.guest();
    const pdf = (await guest.upload(UPLOAD, { file: null }, { file: file(await pdfWith(['The launch code is tangerine.']), 'secret.pdf', 'application/pdf') }))
      .data.uploadFile;
    const docx = (await guest.upload(UPLOAD, { file: null }, { file: file(await docxWith(['Budget approved for 2027.']), 'budget.docx') })).data.uploadFile;
    const result = (await guest.execute(CHAT_WITH_ATTACHMENTS, { input: { content: 'Summarise these', fileIds: [pdf.id, docx.id] } })).data.chat;
    const sent = upstreamUserContent();
    expect(sent).toMatch(/^Summarise these\n\n\[file: secret\.pdf\]\n.*The launch code is tangerine\./s);
    expect(sent).toContain('[file: budget.docx]\nBudget approved for 2027.');
    expect(result.replies[0].content).toContain('Files: secret.pdf, budget.docx.');
    expect(result.userMessage.attachments.map((attachment: any) => attachment.filename)).toEqual(['secret.pdf', 'budget.docx']);
    expect(result.conversation.files.map((entry: any) => entry.filename)).toEqual(['secret.pdf', 'budget.docx']);
    const attached = (await guest.execute(FILES, {})).data.files;
    expect(attached).toHaveLength(2);
  });

  test('a follow-up still sends the files of earlier turns: text as text, images as pixels only to a model that can see', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 10_000_000 });
    const menu = (await user.upload(UPLOAD, { file: null }, { file: file('Soup of the day: lentil.', 'menu.txt') })).data.uploadFile;
    const photo = (await user.upload(UPLOAD, { file: null }, { file: file(tinyPng, 'dish.png', 'image/png') })).data.uploadFile;
    const first = (await user.execute(CHAT, { input: { content: 'What is on the menu?', fileIds: [menu.id, photo.id] } })).data.chat;

    gateway.upstream.reset();
    expect((await user.execute(CHAT, { input: { content: 'And which dish is pictured?', conversationId: first.conversation.id } })).errors).toBeUndefined();
    const [earlier] = gateway.upstream.requests.at(-1)!.body.messages;
    expect(earlier.role).toBe('user');
    expect(earlier.content[0]).toEqual({ type: 'text', text: 'What is on the menu?\n\n[file: menu.txt]\nSoup of the day: lentil.' });
    expect(earlier.content[1].image_url.url).toMatch(/^data:image\/png;base64,/);

    gateway.upstream.reset();
    const textOnly = await user.execute(CHAT, { input: { content: 'Anything vegan?', conversationId: first.conversation.id, models: [PRO_MODEL] } });
    expect(textOnly.errors).toBeUndefined();
    const [again] = gateway.upstream.requests.at(-1)!.body.messages;
    expect(again.content).toBe('What is on the menu?\n\n[file: menu.txt]\nSoup of the day: lentil.\n\n[file: dish.png]\n(an image this model cannot see)');
  });

  test('inline attachments are uploaded with the message; HTML arrives as text', async () => {
    const guest = gateway.guest();
    const result = await guest.upload(
      CHAT_WITH_ATTACHMENTS,
      { input: { content: 'What does the page say?', attachments: [null] } },
      { 'input.attachments.0': file('<html><body><h1>Opening hours</h1><p>Monday to Friday</p></body></html>', 'hours.html', 'text/html') },
    );
    expect(result.errors).toBeUndefined();
    expect(upstreamUserContent()).toMatch(/\[file: hours\.html\]\nOPENING HOURS\n\nMonday to Friday/);
    expect(result.data.chat.userMessage.attachments).toEqual([{ filename: 'hours.html', mimeType: 'text/html' }]);
  });

  test('images go to vision models as image parts; a text-only model gets a clear error', async () => {
    const pro = await gateway.user({ tier: 'PRO' });
    const image = (await pro.upload(UPLOAD, { file: null }, { file: file(tinyPng, 'chart.png', 'image/png') })).data.uploadFile;
    await pro.execute(CHAT, { input: { content: 'What is in the chart?', fileIds: [image.id], models: ['fake-a'] } });
    const content = upstreamUserContent();
    expect(content[0]).toEqual({ type: 'text', text: 'What is in the chart?' });
    expect(content[1].image_url.url).toMatch(/^data:image\/png;base64,/);
    const refused = await pro.execute(CHAT, { input: { content: 'and you?', fileIds: [image.id], models: ['fake-pro'] } });
    expect(codeOf(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors![0]!.message).toContain('fake-pro');
  });

  test('files, history and prompt must fit the context window: oldest history goes first, then CONTEXT_TOO_LONG with the counts', async () => {
    const guest = gateway.guest();
    gateway.upstream.behave({ reply: 'ok '.repeat(3000) });
    const first = (await guest.execute(CHAT, { input: { content: 'first question' } })).data.chat;
    await guest.execute(CHAT, { input: { content: 'second question', conversationId: first.conversation.id } });
    gateway.upstream.reset();
    // The fake models have a 16,000-token window and keep 4,096 for the reply.
    const large = (await guest.upload(UPLOAD, { file: null }, { file: file('lorem ipsum '.repeat(4_000), 'long.txt') })).data.uploadFile;
    // Fits with the newest turns, not with the whole history.
    expect(large.tokenCount + 3 * 3_000).toBeGreaterThan(16_000 - 4_096);
    expect(large.tokenCount + 3_000).toBeLessThan(16_000 - 4_096);
    await guest.execute(CHAT, { input: { content: 'third question', conversationId: first.conversation.id, fileIds: [large.id] } });
    const sent = gateway.upstream.requests
      .at(-1)!
      .body.messages.map((message: any) => (typeof message.content === 'string' ? message.content.slice(0, 15) : 'parts'));
    expect(sent[0]).not.toBe('first question');
    expect(sent.at(-1)).toMatch(/^third question/);

    const huge = (await guest.upload(UPLOAD, { file: null }, { file: file('lorem ipsum '.repeat(20_000), 'huge.txt') })).data.uploadFile;
    const refused = await guest.execute(CHAT, { input: { content: 'too much', fileIds: [huge.id] } });
    expect(refused.status).toBe(400);
    expect(codeOf(refused)).toBe('CONTEXT_TOO_LONG');
    expect(refused.errors![0]!.extensions).toMatchObject({ model: 'fake-a', available: 16_000 - 4_096 });
    expect(refused.errors![0]!.extensions!.needed).toBeGreaterThan(16_000 - 4_096);
  });
});

describe('storage', () => {
  test('identical bytes are stored once; removing is idempotent and frees the bytes with the last reference', async () => {
    const guest = gateway.guest();
    const content = `dedupe me ${Date.now()}`;
    const one = (await guest.upload(UPLOAD, { file: null }, { file: file(content, 'a.txt') })).data.uploadFile;
    const two = (await guest.upload(UPLOAD, { file: null }, { file: file(content, 'b.txt') })).data.uploadFile;
    const sha = (await gateway.app.services.db.prisma.uploadedFile.findFirstOrThrow({ where: { filename: 'a.txt', size: content.length } })).sha256;
    expect((await storedBlobs()).filter((blob) => blob === sha)).toHaveLength(1);
    expect((await guest.execute(REMOVE, { ids: [one.id] })).data.removeFiles.map((entry: any) => entry.filename)).toEqual(['a.txt']);
    expect(await storedBlobs()).toContain(sha);
    expect((await guest.execute(REMOVE, { ids: [one.id, two.id] })).data.removeFiles.map((entry: any) => entry.filename)).toEqual(['b.txt']);
    expect(await storedBlobs()).not.toContain(sha);
    expect((await guest.execute(REMOVE, { ids: [one.id, two.id] })).data.removeFiles).toEqual([]);
  });

  test('a conversation id with an empty id part is NOT_FOUND, and nothing is stored', async () => {
    const rowsBefore = await gateway.app.services.db.prisma.uploadedFile.count();
    const emptyId = Buffer.from('Conversation:').toString('base64url');
    const result = await gateway
      .guest()
      .upload(
        /* GraphQL */ `mutation ($file: File!, $c: ID) { uploadFile(file: $file, conversationId: $c) { id } }`,
        { file: null, c: emptyId },
        { file: file('notes', 'a.txt') },
      );
    expect(codeOf(result)).toBe('NOT_FOUND');
    expect(await gateway.app.services.db.prisma.uploadedFile.count()).toBe(rowsBefore);
  });

  test('removed files answer with their conversation, read before they were deleted', async () => {
    const guest = gateway.guest();
    const conversation = (await guest.execute(CHAT, { input: { content: 'keep this' } })).data.chat.conversation;
    const upload = await guest.upload(UPLOAD, { file: null, conversationId: conversation.id }, { file: file(`in a conversation ${Date.now()}`, 'kept.txt') });
    const removed = await guest.execute('mutation ($ids: [ID!]!) { removeFiles(ids: $ids) { id filename conversation { id title } } }', {
      ids: [upload.data.uploadFile.id],
    });
    expect(removed.errors).toBeUndefined();
    expect(removed.data.removeFiles).toEqual([
      { id: upload.data.uploadFile.id, filename: 'kept.txt', conversation: { id: conversation.id, title: conversation.title } },
    ]);
    expect((await guest.execute(FILES, {})).data.files).toEqual([]);
  });

  test('files attached to nothing expire after 30 minutes and the sweeper removes them', async () => {
    const guest = gateway.guest();
    const loose = (await guest.upload(UPLOAD, { file: null }, { file: file(`loose ${Date.now()}`, 'loose.txt') })).data.uploadFile;
    const expiresIn = new Date(loose.expiresAt).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(29 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(30 * 60_000);
    expect(await gateway.app.services.files.sweep(new Date(Date.now() + 31 * 60_000))).toBeGreaterThanOrEqual(1);
    expect((await guest.execute(FILES, {})).data.files).toEqual([]);
  });

  test("files are their owner's only", async () => {
    const alice = gateway.guest();
    const bob = gateway.guest();
    const mine = (await alice.upload(UPLOAD, { file: null }, { file: file('alice only', 'mine.txt') })).data.uploadFile;
    expect((await bob.execute(FILES, {})).data.files).toEqual([]);
    expect((await bob.execute('query ($id: ID!) { node(id: $id) { id } }', { id: mine.id })).data.node).toBeNull();
    expect(codeOf(await bob.execute(CHAT, { input: { content: 'read it', fileIds: [mine.id] } }))).toBe('NOT_FOUND');
    expect((await bob.execute(REMOVE, { ids: [mine.id] })).data.removeFiles).toEqual([]);
    await eventually(async () => (await alice.execute(FILES, {})).data.files.length === 1);
  });
});

test('a multipart upload without a preflight header is refused (CSRF), and nothing is stored', async () => {
  const guest = gateway.guest();
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: UPLOAD, variables: { file: null } }));
  form.set('map', JSON.stringify({ 0: ['variables.file'] }));
  form.set('0', file(`csrf ${Date.now()}`, 'csrf.txt'));
  const blobsBefore = await storedBlobs();
  const response = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: guest.headers, body: form });
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(await storedBlobs()).toEqual(blobsBefore);
  expect((await guest.execute(FILES, {})).data.files).toEqual([]);
});

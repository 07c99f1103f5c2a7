import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extractText, getDocumentProxy } from 'unpdf';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { decodeGlobalId } from '../../src/graphql/global-id.js';
import { createLocalFileStore, type FileStore } from '../../src/modules/files/file-store.js';
import { codeOf, startGateway, type Gateway } from '../support/harness.js';
import { CHAT } from '../support/operations.js';

const EXPORT = /* GraphQL */ `
  mutation ($id: ID!, $format: ExportFormat!, $secret: String) {
    exportConversation(id: $id, format: $format, secret: $secret) { url mimeType size }
  }
`;
const UPLOAD = /* GraphQL */ `mutation ($file: File!) { uploadFile(file: $file) { id } }`;
const REMOVE = /* GraphQL */ `mutation ($ids: [ID!]!) { removeFiles(ids: $ids) { id } }`;
const SET_SECRET = /* GraphQL */ `mutation ($secret: String!) { setEncryptionSecret(secret: $secret) }`;
const SECRET = 'correct horse battery staple';

let gateway: Gateway;
let filesDir: string;
let store: FileStore;
beforeAll(async () => {
  filesDir = await mkdtemp(path.join(tmpdir(), 'sealed-export-'));
  store = createLocalFileStore(filesDir);
  gateway = await startGateway({ filesDir });
});
afterAll(async () => {
  await gateway?.close();
  await rm(filesDir, { recursive: true, force: true });
});
beforeEach(() => gateway.upstream.reset());

async function download(url: string, headers: Record<string, string>) {
  const response = await fetch(url, { headers });
  return { status: response.status, type: response.headers.get('content-type'), bytes: Buffer.from(await response.arrayBuffer()) };
}

const rowOf = (ownerId: string) => gateway.app.services.db.prisma.uploadedFile.findFirstOrThrow({ where: { ownerId }, orderBy: { createdAt: 'desc' } });

async function pdfText(bytes: Uint8Array) {
  return (await extractText(await getDocumentProxy(new Uint8Array(bytes)), { mergePages: true })).text;
}

async function privateConversation() {
  const alice = await gateway.user({ tier: 'PRO', credits: 5_000_000 });
  gateway.upstream.behave({ reply: 'The code word is MARMALADE.' });
  const sent = await alice.execute(CHAT, { input: { content: 'Remember BLUEBIRD', models: ['fake-private'], secret: SECRET } });
  expect(sent.errors).toBeUndefined();
  return { alice, conversationId: sent.data.chat.conversation.id as string };
}

describe('exports of encrypted conversations are stored sealed', () => {
  test('PDF: the stored bytes are not the document; the secret opens it, without it a coded error, another user 404', async () => {
    const { alice, conversationId } = await privateConversation();
    const exported = await alice.execute(EXPORT, { id: conversationId, format: 'PDF', secret: SECRET });
    expect(exported.errors).toBeUndefined();
    const { url, mimeType, size } = exported.data.exportConversation;
    expect(mimeType).toBe('application/pdf');

    const row = await rowOf(alice.id);
    expect(row).toMatchObject({ sealedFor: decodeGlobalId(conversationId).id, mimeType: 'application/pdf', size, text: null });
    const stored = await store.get(row.sha256);
    expect(stored.subarray(0, 4).toString()).not.toBe('%PDF');
    expect(stored.toString('latin1')).not.toContain('%PDF');
    expect(stored.toString('latin1')).toMatch(/^enc:v1:/);

    const opened = await download(url, { ...alice.headers, 'x-encryption-secret': SECRET });
    expect(opened).toMatchObject({ status: 200, type: 'application/pdf' });
    expect(opened.bytes.byteLength).toBe(size);
    const text = await pdfText(opened.bytes);
    expect(text).toContain('Remember BLUEBIRD');
    expect(text).toContain('MARMALADE');

    const withoutSecret = await fetch(url, { headers: { ...alice.headers, 'accept-language': 'de' } });
    expect(withoutSecret.status).toBe(400);
    const body = (await withoutSecret.json()) as { error: { code: string; key: string; message: string } };
    expect(body.error).toMatchObject({ code: 'BAD_USER_INPUT', key: 'encryption.secretRequired' });
    expect(body.error.message).toContain('Geheimnis');

    const wrong = await download(url, { ...alice.headers, 'x-encryption-secret': 'not the secret at all' });
    expect(wrong.status).toBe(403);

    const bob = await gateway.user({ tier: 'PRO' });
    expect((await download(url, { ...bob.headers, 'x-encryption-secret': SECRET })).status).toBe(404);
    expect((await download(url, bob.headers)).status).toBe(404);
  });

  test('Markdown: the same text back with the secret, and an identical plaintext file is never merged with it', async () => {
    const { alice, conversationId } = await privateConversation();
    const first = await alice.execute(EXPORT, { id: conversationId, format: 'MARKDOWN', secret: SECRET });
    const { url } = first.data.exportConversation;
    const markdown = (await download(url, { ...alice.headers, 'x-encryption-secret': SECRET })).bytes;
    expect(markdown.toString('utf8')).toMatch(/Remember BLUEBIRD[\s\S]*MARMALADE/);
    const sealedRow = await rowOf(alice.id);
    expect((await store.get(sealedRow.sha256)).toString('utf8')).not.toContain('BLUEBIRD');

    // The same plaintext uploaded as a file of its own: its own copy, and removing it leaves the export intact.
    const uploaded = await alice.upload(UPLOAD, { file: null }, { file: new File([markdown], 'copy.md', { type: 'text/markdown' }) });
    expect(uploaded.errors).toBeUndefined();
    const plainRow = await rowOf(alice.id);
    expect(plainRow.sealedFor).toBeNull();
    expect(plainRow.sha256).not.toBe(sealedRow.sha256);
    expect((await store.get(plainRow.sha256)).equals(markdown)).toBe(true);
    expect((await alice.execute(REMOVE, { ids: [uploaded.data.uploadFile.id] })).errors).toBeUndefined();
    expect((await download(url, { ...alice.headers, 'x-encryption-secret': SECRET })).bytes.equals(markdown)).toBe(true);
  });

  test('TEAM_ENCRYPTED: sealed for the team owner, whose secret opens it', async () => {
    const owner = await gateway.user({ tier: 'ENTERPRISE', allowExternalUsage: true, credits: 5_000_000 });
    const member = await gateway.user({ tier: 'ENTERPRISE', credits: 5_000_000 });
    const team = await gateway.app.services.admin.createTeam(owner.id, `Team ${owner.id.slice(-6)}`);
    await gateway.app.services.admin.addTeamMember(team.id, member.id);
    await owner.execute(SET_SECRET, { secret: SECRET });
    gateway.upstream.behave({ reply: 'Quarterly MARMALADE figures look fine.' });
    const sent = await member.execute(CHAT, { input: { content: 'Summarise BLUEBIRD deal', models: ['fake-team'] } });
    expect(sent.errors).toBeUndefined();

    const asOwner = gateway.anonymous({ authorization: `Bearer ${owner.apiKey}`, 'x-acting-user-email': member.email, 'x-encryption-secret': SECRET });
    const exported = await asOwner.execute(EXPORT, { id: sent.data.chat.conversation.id, format: 'MARKDOWN' });
    expect(exported.errors).toBeUndefined();
    const row = await rowOf(member.id);
    expect(row.sealedFor).toBe(decodeGlobalId(sent.data.chat.conversation.id).id);
    const stored = (await store.get(row.sha256)).toString('utf8');
    expect(stored).toMatch(/^jwe:v1:/);
    expect(stored).not.toContain('BLUEBIRD');

    const opened = await download(exported.data.exportConversation.url, asOwner.headers);
    expect(opened.status).toBe(200);
    expect(opened.bytes.toString('utf8')).toMatch(/Summarise BLUEBIRD deal[\s\S]*MARMALADE/);
    // The member who wrote it cannot open it, even with a secret of their own.
    const byMember = await download(exported.data.exportConversation.url, { ...member.headers, 'x-encryption-secret': 'member secret 123' });
    expect(byMember.status).toBe(400);
  });

  test('a public conversation’s export is stored as it downloads', async () => {
    const carol = await gateway.user({ credits: 1_000_000 });
    gateway.upstream.behave({ reply: 'Plain PERIWINKLE answer.' });
    const sent = await carol.execute(CHAT, { input: { content: 'plain question' } });
    const exported = await carol.execute(EXPORT, { id: sent.data.chat.conversation.id, format: 'MARKDOWN' });
    expect(exported.errors).toBeUndefined();
    const row = await rowOf(carol.id);
    expect(row.sealedFor).toBeNull();
    const downloaded = await download(exported.data.exportConversation.url, carol.headers);
    expect(downloaded.status).toBe(200);
    expect(downloaded.bytes.equals(await store.get(row.sha256))).toBe(true);
    expect(downloaded.bytes.toString('utf8')).toContain('PERIWINKLE');
    expect(codeOf(await carol.execute(EXPORT, { id: sent.data.chat.conversation.id, format: 'JSON' }))).toBeUndefined();
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { codeOf, eventually, startGateway, type Gateway } from '../support/harness.js';
import { CHAT, CONVERSATIONS, REGENERATE } from '../support/operations.js';

const CONVERSATION = /* GraphQL */ `
  query ($id: ID!, $secret: String) {
    conversation(id: $id, secret: $secret) { id title privacy messages(first: 20) { edges { node { id role content status } } } }
  }
`;
const SET_SECRET = /* GraphQL */ `mutation ($secret: String!) { setEncryptionSecret(secret: $secret) }`;
const FEEDBACK = /* GraphQL */ `mutation ($input: FeedbackInput!) { submitFeedback(input: $input) { id comment } }`;
const SUMMARY = /* GraphQL */ `query ($id: ID!) { feedbackSummary(conversationId: $id) { details { comment } } }`;
const SEARCH = /* GraphQL */ `query ($query: String!) { searchMessages(query: $query) { snippet } }`;

const SECRET = 'correct horse battery staple';
const PLAINTEXT = ['BLUEBIRD', 'GARDENGNOME', 'MARMALADE', 'PERIWINKLE'];

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

/** Every row of every table of the gateway, as text: what an operator with database access sees. */
async function rawDatabase(): Promise<string> {
  const prisma = gateway.app.services.db.prisma;
  const tables = await prisma.$queryRawUnsafe<Array<{ table_name: string }>>(
    `SELECT table_name::text AS table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
  );
  const dumps = await Promise.all(
    tables.map(({ table_name }) => prisma.$queryRawUnsafe<Array<{ row: string }>>(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`)),
  );
  expect(tables.map((table) => table.table_name)).toContain('Message');
  return dumps
    .flat()
    .map((dump) => dump.row)
    .join('\n');
}

describe('PRIVATE_ENCRYPTED conversations', () => {
  test('contents, titles, prompts and feedback are stored as ciphertext; the secret reads them back', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 5_000_000 });
    gateway.upstream.behave({ reply: 'I will remember MARMALADE for you.' });

    const refused = await user.execute(CHAT, { input: { content: 'The locker code is BLUEBIRD-4242', models: ['fake-private'] } });
    expect(codeOf(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors![0]!.message).toContain('secret');

    const sent = await user.execute(CHAT, {
      input: { content: 'The locker code is BLUEBIRD-4242', systemPrompt: 'Speak like a GARDENGNOME.', models: ['fake-private'], secret: SECRET },
    });
    expect(sent.errors).toBeUndefined();
    expect(sent.data.chat.replies[0]).toMatchObject({ status: 'COMPLETE', content: 'I will remember MARMALADE for you.' });
    expect(sent.data.chat.conversation.title).toBe('The locker code is BLUEBIRD-4242');
    const conversationId = sent.data.chat.conversation.id;
    // The model needs the plaintext; only storage is encrypted.
    expect(JSON.stringify(gateway.upstream.requests[0]!.body.messages)).toContain('BLUEBIRD-4242');

    const replyId = sent.data.chat.replies[0].id;
    const feedback = await user.execute(FEEDBACK, { input: { messageId: replyId, kind: 'THUMBS_UP', comment: 'Loved the PERIWINKLE tone', secret: SECRET } });
    expect(feedback.data.submitFeedback.comment).toBe('Loved the PERIWINKLE tone');

    const raw = await rawDatabase();
    for (const word of PLAINTEXT) expect(raw, word).not.toContain(word);
    expect(raw).toContain('enc:v1:');

    // Without the secret: the conversation is there, its text is not.
    const locked = (await user.execute(CONVERSATION, { id: conversationId })).data.conversation;
    expect(locked.privacy).toBe('PRIVATE_ENCRYPTED');
    expect(locked.title).toBe('Encrypted conversation');
    expect(locked.messages.edges.map((edge: any) => edge.node.content)).toEqual(['', '']);
    // With a wrong one: refused, and said why.
    const wrong = await user.execute(CONVERSATION, { id: conversationId, secret: 'not my secret at all' });
    expect(codeOf(wrong)).toBe('FORBIDDEN');
    expect(wrong.errors![0]!.extensions!.reason).toBe('WRONG_SECRET');
    // With the right one: plaintext.
    const open = (await user.execute(CONVERSATION, { id: conversationId, secret: SECRET })).data.conversation;
    expect(open.title).toBe('The locker code is BLUEBIRD-4242');
    expect(open.messages.edges.map((edge: any) => edge.node.content)).toEqual(['The locker code is BLUEBIRD-4242', 'I will remember MARMALADE for you.']);

    // History by period, and feedback, read with the secret as a header.
    const withHeader = gateway.anonymous({ ...user.headers, 'x-encryption-secret': SECRET });
    const history = (await withHeader.execute(CONVERSATIONS, { first: 5, period: 'TODAY' })).data.conversations.edges.map((edge: any) => edge.node.title);
    expect(history).toEqual(['The locker code is BLUEBIRD-4242']);
    expect((await withHeader.execute(SUMMARY, { id: conversationId })).data.feedbackSummary.details[0].comment).toBe('Loved the PERIWINKLE tone');

    // Encrypted text is not searchable.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await user.execute(SEARCH, { query: 'BLUEBIRD' })).data.searchMessages).toEqual([]);
  });

  test('a later turn sends the decrypted history to the model; regenerate works with the secret header', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 5_000_000 });
    gateway.upstream.behave({ reply: 'Noted.' });
    const first = (await user.execute(CHAT, { input: { content: 'My cat is called PERIWINKLE', models: ['fake-private'], secret: SECRET } })).data.chat;
    gateway.upstream.reset();
    gateway.upstream.behave({ reply: 'Your cat is PERIWINKLE.' });
    const second = await user.execute(CHAT, {
      input: { conversationId: first.conversation.id, content: 'What is my cat called?', models: ['fake-private'], secret: SECRET },
    });
    expect(second.errors).toBeUndefined();
    const contents = gateway.upstream.requests[0]!.body.messages.map((message: any) => message.content);
    expect(contents).toEqual(['My cat is called PERIWINKLE', 'Noted.', 'What is my cat called?']);

    const withHeader = gateway.anonymous({ ...user.headers, 'x-encryption-secret': SECRET });
    const regenerated = await withHeader.execute(REGENERATE, { messageId: second.data.chat.replies[0].id });
    expect(regenerated.errors).toBeUndefined();
    await eventually(async () => (await gateway.app.services.db.prisma.message.count({ where: { status: 'STREAMING' } })) === 0);
    // Without it, the stored question cannot be read back for the model.
    expect(codeOf(await user.execute(REGENERATE, { messageId: second.data.chat.replies[0].id }))).toBe('BAD_USER_INPUT');
    expect(await rawDatabase()).not.toContain('PERIWINKLE');
  });

  test('the first secret is yours; encrypted and plain models do not mix; files are refused', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 5_000_000 });
    expect(codeOf(await user.execute(SET_SECRET, { secret: 'short' }))).toBe('BAD_USER_INPUT');
    expect((await user.execute(SET_SECRET, { secret: SECRET })).data.setEncryptionSecret).toBe(true);
    expect((await user.execute(SET_SECRET, { secret: SECRET })).data.setEncryptionSecret).toBe(true);
    expect(codeOf(await user.execute(SET_SECRET, { secret: 'another secret entirely' }))).toBe('FORBIDDEN');
    expect(codeOf(await user.execute(CHAT, { input: { content: 'hi', models: ['fake-private', 'fake-a'], secret: SECRET } }))).toBe('BAD_USER_INPUT');
    const plain = (await user.execute(CHAT, { input: { content: 'hi', models: ['fake-a'] } })).data.chat.conversation.id;
    expect(codeOf(await user.execute(CHAT, { input: { conversationId: plain, content: 'more', models: ['fake-private'], secret: SECRET } }))).toBe(
      'BAD_USER_INPUT',
    );
    const file = await user.upload(
      'mutation ($file: File!) { uploadFile(file: $file) { id } }',
      { file: null },
      { file: new File(['notes'], 'notes.txt', { type: 'text/plain' }) },
    );
    expect(
      codeOf(await user.execute(CHAT, { input: { content: 'read this', models: ['fake-private'], secret: SECRET, fileIds: [file.data.uploadFile.id] } })),
    ).toBe('BAD_USER_INPUT');
    expect((await user.execute(CONVERSATIONS, { first: 10 })).data.conversations.totalCount).toBe(1);
  });
});

describe('TEAM_ENCRYPTED conversations', () => {
  async function team() {
    const { admin } = gateway.app.services;
    const owner = await gateway.user({ tier: 'ENTERPRISE', allowExternalUsage: true, credits: 5_000_000 });
    const member = await gateway.user({ tier: 'ENTERPRISE', credits: 5_000_000 });
    const created = await admin.createTeam(owner.id, `Team ${owner.id.slice(-6)}`);
    await admin.addTeamMember(created.id, member.id);
    return { owner, member };
  }

  test('members write sealed for the owner; only the owner’s secret reads it', async () => {
    const { owner, member } = await team();
    gateway.upstream.behave({ reply: 'Quarterly MARMALADE figures look fine.' });
    // The owner has no key yet: nothing can be sealed for them.
    expect(codeOf(await member.execute(CHAT, { input: { content: 'Summarise BLUEBIRD deal', models: ['fake-team'] } }))).toBe('BAD_USER_INPUT');
    await owner.execute(SET_SECRET, { secret: SECRET });

    const sent = await member.execute(CHAT, { input: { content: 'Summarise BLUEBIRD deal', models: ['fake-team'] } });
    expect(sent.errors).toBeUndefined();
    expect(sent.data.chat.replies[0].status).toBe('COMPLETE');
    const conversationId = sent.data.chat.conversation.id;

    const raw = await rawDatabase();
    expect(raw).not.toContain('BLUEBIRD');
    expect(raw).not.toContain('MARMALADE');
    expect(raw).toContain('jwe:v1:');

    // The member who wrote it cannot read it back, even with a secret of their own.
    const memberView = (
      await gateway.anonymous({ ...member.headers, 'x-encryption-secret': 'member secret 123' }).execute(CONVERSATION, { id: conversationId })
    ).data.conversation;
    expect(memberView.title).toBe('Encrypted conversation');
    expect(memberView.messages.edges.map((edge: any) => edge.node.content)).toEqual(['', '']);

    // The owner, acting for the member with their key and their secret, reads it.
    const asOwner = gateway.anonymous({ authorization: `Bearer ${owner.apiKey}`, 'x-acting-user-email': member.email, 'x-encryption-secret': SECRET });
    const ownerView = (await asOwner.execute(CONVERSATION, { id: conversationId })).data.conversation;
    expect(ownerView.privacy).toBe('TEAM_ENCRYPTED');
    expect(ownerView.title).toBe('Summarise BLUEBIRD deal');
    expect(ownerView.messages.edges.map((edge: any) => edge.node.content)).toEqual(['Summarise BLUEBIRD deal', 'Quarterly MARMALADE figures look fine.']);
  });

  test('a user in no team cannot use a team-encrypted model', async () => {
    const loner = await gateway.user({ tier: 'ENTERPRISE', credits: 5_000_000 });
    const result = await loner.execute(CHAT, { input: { content: 'hello', models: ['fake-team'] } });
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('team');
  });
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually, startGateway, type Gateway } from '../support/harness.js';
import { CHAT } from '../support/operations.js';

const SEARCH_MESSAGES = /* GraphQL */ `query ($query: String!, $conversationId: ID, $first: Int) { searchMessages(query: $query, conversationId: $conversationId, first: $first) { score snippet message { id content conversation { id } } } }`;
const SEARCH_CONVERSATIONS = /* GraphQL */ `query ($query: String!, $first: Int) { searchConversations(query: $query, first: $first) { score snippet conversation { id title } } }`;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ embeddingModel: 'fake-embed' });
});
afterAll(() => gateway?.close());

async function seed(caller: Awaited<ReturnType<Gateway['user']>> | ReturnType<Gateway['guest']>) {
  gateway.upstream.behave({ reply: 'Noted.' });
  const topics = [
    'The capital of France is Paris and the river is the Seine',
    'My sourdough starter needs flour and water daily',
    'Quarterly tax returns are due in April',
  ];
  const conversations = [];
  for (const content of topics) conversations.push((await caller.execute(CHAT, { input: { content } })).data.chat.conversation);
  return conversations;
}

describe('full-text search (FREE tier, or no embedding model)', () => {
  test('finds messages by their words, ranked, with a highlighted snippet', async () => {
    const guest = gateway.guest();
    const conversations = await seed(guest);
    const hits = (await guest.execute(SEARCH_MESSAGES, { query: 'capital of France' })).data.searchMessages;
    expect(hits).toHaveLength(1);
    expect(hits[0].message.content).toContain('Paris');
    expect(hits[0].snippet).toContain('**France**');
    expect(hits[0].score).toBeGreaterThan(0);
    const scoped = (await guest.execute(SEARCH_MESSAGES, { query: 'flour', conversationId: conversations[0].id })).data.searchMessages;
    expect(scoped).toEqual([]);
    const byConversation = (await guest.execute(SEARCH_CONVERSATIONS, { query: 'sourdough water' })).data.searchConversations;
    expect(byConversation.map((hit: any) => hit.conversation.id)).toEqual([conversations[1].id]);
  });
});

/** Messages of the owner that carry a vector on the index. */
async function indexedCount(ownerId: string): Promise<number> {
  const [row] = await gateway.app.services.db.prisma.$queryRaw<Array<{ count: number }>>`
    SELECT count(*)::int AS count FROM "Message" m JOIN "Conversation" c ON c.id = m."conversationId"
    WHERE c."ownerId" = ${ownerId} AND m.embedding IS NOT NULL`;
  return row!.count;
}

describe('semantic search (semantic_search feature with an embedding model)', () => {
  test('ranks conversations by meaning once their turns are indexed', async () => {
    const alice = await gateway.user({ tier: 'BASIC' });
    const conversations = await seed(alice);
    await eventually(async () => (await indexedCount(alice.id)) === 6);
    const hits = (await alice.execute(SEARCH_CONVERSATIONS, { query: 'tax returns due date', first: 3 })).data.searchConversations;
    expect(hits[0].conversation.id).toBe(conversations[2].id);
    // Conversations sharing no meaning with the query (cosine distance 1 or more) are not hits at all.
    for (const other of hits.slice(1)) expect(other.score).toBeLessThan(hits[0].score);
    expect(hits[0].snippet).toContain('tax');
    const messages = (await alice.execute(SEARCH_MESSAGES, { query: 'flour water starter', first: 1 })).data.searchMessages;
    expect(messages[0].message.content).toContain('sourdough');
  });
});

test("nobody finds another caller's messages", async () => {
  const alice = gateway.guest();
  await seed(alice);
  const bob = await gateway.user({ tier: 'BASIC' });
  expect((await bob.execute(SEARCH_MESSAGES, { query: 'Paris' })).data.searchMessages).toEqual([]);
  expect((await gateway.guest().execute(SEARCH_CONVERSATIONS, { query: 'Paris' })).data.searchConversations).toEqual([]);
});

test('an empty query is BAD_USER_INPUT', async () => {
  expect((await gateway.guest().execute(SEARCH_MESSAGES, { query: '  ' })).errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
});

import { afterAll, beforeAll, expect, test } from 'vitest';
import { eventually, startGateway, type Gateway } from '../support/harness.js';

const SEARCH_MESSAGES = /* GraphQL */ `query ($query: String!, $first: Int) { searchMessages(query: $query, first: $first) { score message { id content } } }`;

const OLDER_THAN_THE_NEWEST = 5_000;
const PHRASE = 'the lighthouse keeper painted the zeppelin hangar teal';

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ embeddingModel: 'fake-embed' });
});
afterAll(async () => {
  await gateway?.close();
});

async function unembedded(privacy: 'PUBLIC' | 'PRIVATE_ENCRYPTED'): Promise<number> {
  const [row] = await gateway.app.services.db.prisma.$queryRaw<Array<{ count: number }>>`
    SELECT count(*)::int AS count FROM "Message" m JOIN "Conversation" c ON c.id = m."conversationId"
    WHERE m.embedding IS NULL AND m.content <> '' AND c.privacy::text = ${privacy}`;
  return row!.count;
}

test('a message older than the newest 5,000 is found first, once the startup pass has embedded what was stored before (never an encrypted conversation)', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  const prisma = gateway.app.services.db.prisma;
  const conversation = await prisma.conversation.create({ data: { ownerId: alice.id, title: 'A long history' } });
  // Stored without vectors, as messages from before the vector index are: the oldest carries the phrase,
  // the newer ones share one of its words so they compete for the query.
  const words = ['zeppelin', 'hangar', 'teal', 'lighthouse'];
  const newer = Array.from({ length: OLDER_THAN_THE_NEWEST + 100 }, (_, index) => ({
    conversationId: conversation.id,
    role: 'USER' as const,
    content: `Note ${index}: a ${words[index % words.length]} in the weather report`,
  }));
  await prisma.message.create({ data: { conversationId: conversation.id, role: 'USER', content: PHRASE } });
  await prisma.message.createMany({ data: newer });
  const sealed = await prisma.conversation.create({ data: { ownerId: alice.id, title: 'Sealed', privacy: 'PRIVATE_ENCRYPTED' } });
  await prisma.message.create({ data: { conversationId: sealed.id, role: 'USER', content: 'sealed bytes' } });

  // What an instance does when it starts.
  await gateway.app.services.search.stopBackfill();
  gateway.app.services.search.startBackfill();
  await eventually(async () => (await unembedded('PUBLIC')) === 0, 120_000);
  // Encrypted conversations never join the index.
  expect(await unembedded('PRIVATE_ENCRYPTED')).toBe(1);

  const hits = (await alice.execute(SEARCH_MESSAGES, { query: 'zeppelin hangar teal', first: 5 })).data.searchMessages;
  expect(hits[0].message.content).toBe(PHRASE);
  expect(hits).toHaveLength(5);
  expect(hits[1].score).toBeLessThan(hits[0].score);
}, 180_000);

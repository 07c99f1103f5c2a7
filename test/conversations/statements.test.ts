import { afterAll, beforeAll, expect, test } from 'vitest';
import { eventually, startGateway, type Gateway } from '../support/harness.js';

// No N+1: the SQL statements of a page do not grow with the page size.
let gateway: Gateway;
let alice: Awaited<ReturnType<Gateway['user']>>;
let conversationId: string;

const PAGE = /* GraphQL */ `
  query ($first: Int) {
    conversations(first: $first) {
      totalCount
      edges { node { id title messageCount lastMessage { id content status model { id } } template { name systemPrompt } } }
    }
  }
`;
const MESSAGES = /* GraphQL */ `
  query ($id: ID!, $first: Int) {
    conversation(id: $id) { messages(first: $first) { totalCount edges { node { id content role parent { id } feedback { kind } model { id } } } } }
  }
`;

beforeAll(async () => {
  // Statements are counted for the whole server: keep its background work (batch polling,
  // reply heartbeats, file sweeps) out of the measured windows.
  const hour = 60 * 60 * 1000;
  gateway = await startGateway({ batchPollMs: hour, orphanTimeoutMs: hour, fileSweepIntervalMs: hour });
  alice = await gateway.user({ tier: 'PRO' });
  // The key's first use records lastUsedAt in the background; let that write land before counting.
  await alice.execute('{ viewer { tier } }');
  await eventually(() => gateway.app.services.db.prisma.apiKey.findFirst({ where: { ownerId: alice.id, lastUsedAt: { not: null } } }));
  const { db, templates } = gateway.app.services;
  const owner = { userId: alice.id, billedUserId: alice.id, tier: 'PRO' as const, isGuest: false };
  await templates.create(owner, { name: 'own_prompt', displayName: 'Own', systemPrompt: 'Be {{style}}.' });
  // Seed rows directly: 60 conversations with two messages each, half on a template.
  for (let index = 0; index < 60; index += 1) {
    const conversation = await db.prisma.conversation.create({
      data: {
        ownerId: alice.id,
        title: `conversation ${index}`,
        ...(index % 3 === 0
          ? { templateName: 'own_prompt', templateVariables: { style: 'brief' } }
          : index % 3 === 1
            ? { templateName: 'standard_assistant' }
            : {}),
      },
    });
    const question = await db.prisma.message.create({ data: { conversationId: conversation.id, role: 'USER', content: `question ${index}` } });
    await db.prisma.message.create({
      data: { conversationId: conversation.id, role: 'ASSISTANT', content: `answer ${index}`, modelId: 'fake-a', parentId: question.id },
    });
    conversationId ??= Buffer.from(`Conversation:${conversation.id}`).toString('base64url');
  }
  for (let index = 0; index < 60; index += 1) {
    await db.prisma.message.create({
      data: { conversationId: Buffer.from(conversationId, 'base64url').toString().split(':')[1]!, role: 'USER', content: `more ${index}` },
    });
  }
});
afterAll(() => gateway?.close());

async function statementsFor(query: string, variables: Record<string, unknown>) {
  await alice.execute(query, variables); // warm: the caller's row and key are looked up the same way every time
  const before = gateway.app.services.db.statements.total;
  const result = await alice.execute(query, variables);
  expect(result.errors).toBeUndefined();
  return { count: gateway.app.services.db.statements.total - before, data: result.data };
}

test('conversations(first: 50) with lastMessage, messageCount and template costs what first: 5 costs', async () => {
  const small = await statementsFor(PAGE, { first: 5 });
  const large = await statementsFor(PAGE, { first: 50 });
  expect(large.data.conversations.edges).toHaveLength(50);
  expect(large.data.conversations.edges.some((edge: any) => edge.node.template?.name === 'own_prompt')).toBe(true);
  expect(large.count).toBe(small.count);
  expect(large.count).toBeLessThanOrEqual(8);
  console.log(`conversations page: ${small.count} statements for 5, ${large.count} for 50`);
});

test('a messages page costs the same for 5 and 50 messages', async () => {
  const small = await statementsFor(MESSAGES, { id: conversationId, first: 5 });
  const large = await statementsFor(MESSAGES, { id: conversationId, first: 50 });
  expect(large.data.conversation.messages.edges).toHaveLength(50);
  expect(large.count).toBe(small.count);
  console.log(`messages page: ${small.count} statements for 5, ${large.count} for 50`);
});

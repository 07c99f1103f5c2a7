import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGateway, type Caller, type Gateway } from '../support/harness.js';
import { CHAT } from '../support/operations.js';

// Every operation that takes an id, run by Bob against Alice's ids: nothing of Alice's comes back or changes.
let gateway: Gateway;
let alice: Awaited<ReturnType<Gateway['user']>>;
let bob: Caller;
const ids: Record<string, string> = {};

beforeAll(async () => {
  gateway = await startGateway();
  alice = await gateway.user({ tier: 'ENTERPRISE' });
  bob = await gateway.user({ tier: 'ENTERPRISE' });
  const chat = (await alice.execute(CHAT, { input: { content: "alice's secret" } })).data.chat;
  ids.conversation = chat.conversation.id;
  ids.userMessage = chat.userMessage.id;
  ids.reply = chat.replies[0].id;
  ids.user = (await alice.execute('{ viewer { user { id } } }')).data.viewer.user.id;
  const team = await gateway.app.services.admin.createTeam(alice.id, 'alice only');
  ids.team = Buffer.from(`Team:${team.id}`).toString('base64url');
  const key = await gateway.app.services.admin.createApiKey(alice.id, { name: 'second' });
  ids.apiKey = Buffer.from(`ApiKey:${key.id}`).toString('base64url');
});
afterAll(() => gateway?.close());

type Check = { name: string; query: string; variables: () => Record<string, unknown>; subscription?: boolean };

const table: Check[] = [
  { name: 'node(conversation)', query: 'query ($id: ID!) { node(id: $id) { id } }', variables: () => ({ id: ids.conversation }) },
  { name: 'node(message)', query: 'query ($id: ID!) { node(id: $id) { id } }', variables: () => ({ id: ids.reply }) },
  { name: 'node(user)', query: 'query ($id: ID!) { node(id: $id) { id } }', variables: () => ({ id: ids.user }) },
  { name: 'node(team)', query: 'query ($id: ID!) { node(id: $id) { id } }', variables: () => ({ id: ids.team }) },
  { name: 'nodes', query: 'query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', variables: () => ({ ids: [ids.conversation, ids.reply, ids.user] }) },
  { name: 'conversation', query: 'query ($id: ID!) { conversation(id: $id) { id title } }', variables: () => ({ id: ids.conversation }) },
  {
    name: 'renameConversation',
    query: 'mutation ($id: ID!) { renameConversation(id: $id, title: "mine") { id } }',
    variables: () => ({ id: ids.conversation }),
  },
  { name: 'deleteConversation', query: 'mutation ($id: ID!) { deleteConversation(id: $id) }', variables: () => ({ id: ids.conversation }) },
  {
    name: 'sendMessage(conversationId)',
    query: 'mutation ($id: ID!) { sendMessage(input: { conversationId: $id, content: "x" }) { conversation { id } } }',
    variables: () => ({ id: ids.conversation }),
  },
  {
    name: 'sendMessage(parentMessageId)',
    query: 'mutation ($id: ID!) { sendMessage(input: { parentMessageId: $id, content: "x" }) { conversation { id } } }',
    variables: () => ({ id: ids.reply }),
  },
  {
    name: 'chat(conversationId)',
    query: 'mutation ($id: ID!) { chat(input: { conversationId: $id, content: "x" }) { conversation { id } } }',
    variables: () => ({ id: ids.conversation }),
  },
  { name: 'regenerate', query: 'mutation ($id: ID!) { regenerate(messageId: $id) { id content } }', variables: () => ({ id: ids.reply }) },
  { name: 'stopGeneration(messageId)', query: 'mutation ($id: ID!) { stopGeneration(messageId: $id) { id content } }', variables: () => ({ id: ids.reply }) },
  {
    name: 'stopGeneration(conversationId)',
    query: 'mutation ($id: ID!) { stopGeneration(conversationId: $id) { id content } }',
    variables: () => ({ id: ids.conversation }),
  },
  { name: 'revokeApiKey', query: 'mutation ($id: ID!) { revokeApiKey(id: $id) }', variables: () => ({ id: ids.apiKey }) },
  {
    name: 'messageStream',
    query: 'subscription ($id: ID!) { messageStream(messageId: $id) { seq } }',
    variables: () => ({ id: ids.reply }),
    subscription: true,
  },
  {
    name: 'conversationEvents',
    query: 'subscription ($id: ID!) { conversationEvents(conversationId: $id) { seq } }',
    variables: () => ({ id: ids.conversation }),
    subscription: true,
  },
  {
    name: 'chatStream(conversationId)',
    query: 'subscription ($id: ID!) { chatStream(input: { conversationId: $id, content: "x" }) { seq } }',
    variables: () => ({ id: ids.conversation }),
    subscription: true,
  },
];

test.each(table)('$name gives Bob nothing of Alice', async (check) => {
  if (check.subscription) {
    const subscription = bob.subscribe(check.query, check.variables());
    await subscription.done;
    expect(subscription.events).toEqual([]);
    expect((subscription.errors[0] as any).extensions.code).toBe('NOT_FOUND');
    return;
  }
  const result = await bob.execute(check.query, check.variables());
  const text = JSON.stringify(result.data ?? null);
  expect(text).not.toContain("alice's secret");
  for (const id of Object.values(ids)) expect(text).not.toContain(id);
  if (result.errors) expect(['NOT_FOUND', 'FORBIDDEN']).toContain(result.errors[0]!.extensions!.code);
});

test("after Bob tried everything, Alice's data is unchanged", async () => {
  const conversation = (await alice.execute('query ($id: ID!) { conversation(id: $id) { title messageCount } }', { id: ids.conversation })).data.conversation;
  expect(conversation).toEqual({ title: "alice's secret", messageCount: 2 });
  const keys = await gateway.app.services.db.prisma.apiKey.findMany({ where: { ownerId: alice.id, revokedAt: { not: null } } });
  expect(keys).toEqual([]);
});

import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { codeOf, startGateway, type Gateway } from '../support/harness.js';
import { CHAT } from '../support/operations.js';

const CREATE = /* GraphQL */ `mutation ($content: String!) { createMemory(content: $content) { id content createdAt } }`;
const DELETE = /* GraphQL */ `mutation ($id: ID!) { deleteMemory(id: $id) }`;
const LIST = /* GraphQL */ `query ($first: Int, $after: String) { memories(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id content } } } }`;
const CREDITS = /* GraphQL */ `{ viewer { credits } }`;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ embeddingModel: 'fake-embed', memoryCreditCost: 1_000 });
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

test('memories are created, listed newest first, paged, and deleted; each costs credits', async () => {
  const alice = await gateway.user({ tier: 'BASIC', credits: 10_000 });
  for (const content of ['I live in Lisbon', 'I am vegetarian', 'My dog is called Miso']) {
    expect((await alice.execute(CREATE, { content })).data.createMemory.content).toBe(content);
  }
  expect((await alice.execute(CREDITS)).data.viewer.credits).toBeLessThanOrEqual(7_000);
  const page = (await alice.execute(LIST, { first: 2 })).data.memories;
  expect(page.totalCount).toBe(3);
  expect(page.edges.map((edge: any) => edge.node.content)).toEqual(['My dog is called Miso', 'I am vegetarian']);
  const rest = (await alice.execute(LIST, { first: 2, after: page.pageInfo.endCursor })).data.memories;
  expect(rest.edges.map((edge: any) => edge.node.content)).toEqual(['I live in Lisbon']);
  expect((await alice.execute(DELETE, { id: rest.edges[0].node.id })).data.deleteMemory).toBe(true);
  expect((await alice.execute(LIST, {})).data.memories.totalCount).toBe(2);
  expect(codeOf(await gateway.guest().execute(DELETE, { id: page.edges[0].node.id }))).toBe('NOT_FOUND');
});

test('without enough credits a memory is refused and not stored', async () => {
  const poor = await gateway.user({ tier: 'BASIC', credits: 500 });
  const result = await poor.execute(CREATE, { content: 'remember this' });
  expect(codeOf(result)).toBe('INSUFFICIENT_CREDITS');
  expect((await poor.execute(LIST, {})).data.memories.totalCount).toBe(0);
});

test('the most relevant memories join the context, and the demo-style reply names them', async () => {
  const alice = await gateway.user({ tier: 'BASIC', credits: 1_000_000 });
  for (const content of ['favourite drink is green tea', 'works as a nurse', 'has two cats', 'lives near the sea', 'plays the cello']) {
    await alice.execute(CREATE, { content });
  }
  const reply = (await alice.execute(CHAT, { input: { content: 'which tea should I drink this morning? green or black tea' } })).data.chat.replies[0];
  const system = gateway.upstream.requests.find((request) => request.path.endsWith('/chat/completions'))!.body.messages[0];
  expect(system.role).toBe('system');
  const remembered = [...system.content.matchAll(/\[memory: ([^\]]+)\]/g)].map((match: RegExpMatchArray) => match[1]);
  expect(remembered).toHaveLength(3);
  expect(remembered[0]).toBe('favourite drink is green tea');
  expect(reply.content).toContain('Memories: favourite drink is green tea');
});

test('memories are private', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  const bob = await gateway.user({ tier: 'BASIC' });
  const memory = (await alice.execute(CREATE, { content: 'alice hides the key under the mat' })).data.createMemory;
  expect((await bob.execute(LIST, {})).data.memories.totalCount).toBe(0);
  expect((await bob.execute('query ($id: ID!) { node(id: $id) { id } }', { id: memory.id })).data.node).toBeNull();
  await bob.execute(CHAT, { input: { content: 'tell me what you know about me' } });
  expect(JSON.stringify(gateway.upstream.requests.at(-1)!.body)).not.toContain('under the mat');
});

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { file, tinyPng } from '../files/fixtures.js';
import { codeOf, eventually, startGateway, type Gateway } from '../support/harness.js';

const DOCUMENT_FIELDS = 'id source mimeType status error chunkCount tokenCount createdAt';
const CREATE = /* GraphQL */ `mutation ($name: String!, $description: String) { createCollection(name: $name, description: $description) { id name description documentCount chunkCount } }`;
const ADD = /* GraphQL */ `mutation ($collectionId: ID!, $fileIds: [ID!], $texts: [KnowledgeTextInput!]) { addToCollection(collectionId: $collectionId, fileIds: $fileIds, texts: $texts) { ${DOCUMENT_FIELDS} } }`;
const COLLECTION = /* GraphQL */ `query ($id: ID!) { collection(id: $id) { id name documentCount chunkCount documents(first: 10) { totalCount edges { node { ${DOCUMENT_FIELDS} } } } } }`;
const COLLECTIONS = /* GraphQL */ `query { collections { id name } }`;
const SEARCH = /* GraphQL */ `query ($query: String!, $ids: [ID!]!, $first: Int) { searchKnowledge(query: $query, collectionIds: $ids, first: $first) { content score rank document { id source } } }`;
const DELETE = /* GraphQL */ `mutation ($id: ID!) { deleteCollection(id: $id) }`;
const REMOVE = /* GraphQL */ `mutation ($collectionId: ID!, $documentIds: [ID!]!) { removeFromCollection(collectionId: $collectionId, documentIds: $documentIds) }`;
const UPLOAD = /* GraphQL */ `mutation ($file: File!) { uploadFile(file: $file) { id } }`;
const SEND = /* GraphQL */ `mutation ($input: SendMessageInput!) { chat(input: $input) { replies { content citations { index source snippet document { id } } } } }`;
const HEALTH = /* GraphQL */ `query { health { database vectorIndex } }`;

const handbook = `# Handbook

## Travel

Employees book trains for trips under four hours. Flights need a manager's approval.

## Expenses

Receipts are uploaded within thirty days. Meals abroad are reimbursed up to a daily allowance.
`;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ embeddingModel: 'fake-embed', batchPollMs: 50 });
});
afterAll(() => gateway?.close());

type Caller = Awaited<ReturnType<Gateway['user']>>;

async function collectionWith(caller: Caller, texts: Array<{ source: string; text: string }>) {
  const created = await caller.execute(CREATE, { name: `docs ${Math.random()}` });
  expect(created.errors).toBeUndefined();
  const id = created.data.createCollection.id as string;
  const added = await caller.execute(ADD, { collectionId: id, texts });
  expect(added.errors).toBeUndefined();
  return { id, documents: added.data.addToCollection as Array<{ id: string; status: string }> };
}

const settled = (caller: Caller, id: string) =>
  eventually(async () => {
    const collection = (await caller.execute(COLLECTION, { id })).data.collection;
    const nodes = collection.documents.edges.map((edge: { node: { status: string } }) => edge.node);
    return nodes.every((node: { status: string }) => node.status === 'READY' || node.status === 'FAILED') ? collection : null;
  }, 15_000);

describe('knowledge collections', () => {
  test('texts and uploaded files are queued at once, indexed to READY, and found by meaning and words', async () => {
    const user = await gateway.user({ tier: 'BASIC' });
    const upload = await user.upload(
      UPLOAD,
      { file: null },
      { file: file('The office closes at six on Fridays. Parking permits are renewed each January.', 'office.txt') },
    );
    const created = (await user.execute(CREATE, { name: 'Company', description: 'Policies' })).data.createCollection;
    expect(created).toMatchObject({ name: 'Company', description: 'Policies', documentCount: 0, chunkCount: 0 });
    const added = await user.execute(ADD, {
      collectionId: created.id,
      fileIds: [upload.data.uploadFile.id],
      texts: [{ source: 'handbook.md', text: handbook }],
    });
    expect(added.errors).toBeUndefined();
    expect(added.data.addToCollection.map((document: { status: string; source: string }) => [document.source, document.status])).toEqual([
      ['office.txt', 'QUEUED'],
      ['handbook.md', 'QUEUED'],
    ]);

    await settled(user, created.id);
    const collection = (await user.execute(COLLECTION, { id: created.id })).data.collection;
    expect(collection.documents.edges.map((edge: { node: { status: string; error: string | null } }) => [edge.node.status, edge.node.error])).toEqual([
      ['READY', null],
      ['READY', null],
    ]);
    expect(collection.documentCount).toBe(2);
    // The handbook's two sections and the office note, each a passage of its own.
    expect(collection.chunkCount).toBe(3);

    const hits = (await user.execute(SEARCH, { query: 'when are receipts uploaded', ids: [created.id] })).data.searchKnowledge;
    expect(hits[0]).toMatchObject({ rank: 1, document: { source: 'handbook.md' } });
    expect(hits[0].content).toContain('Receipts are uploaded within thirty days');
    expect(hits.map((hit: { score: number }) => hit.score)).toEqual([...hits.map((hit: { score: number }) => hit.score)].sort((a, b) => b - a));
    const office = (await user.execute(SEARCH, { query: 'parking permits', ids: [created.id], first: 1 })).data.searchKnowledge;
    expect(office).toHaveLength(1);
    expect(office[0].document.source).toBe('office.txt');

    // Indexing was metered as its own usage.
    const indexing = await gateway.app.services.db.prisma.usageEvent.findMany({ where: { userId: user.id, action: 'INDEXING' } });
    expect(indexing.length).toBeGreaterThan(0);
    expect(indexing.every((event) => event.success && event.inputTokens > 0)).toBe(true);
  });

  test('collectionIds put the best passages in the context as numbered sources; the reply cites them', async () => {
    const user = await gateway.user({ tier: 'BASIC', credits: 1_000_000 });
    const { id, documents } = await collectionWith(user, [{ source: 'handbook.md', text: handbook }]);
    await settled(user, id);
    gateway.upstream.reset();
    const sent = await user.execute(SEND, { input: { content: 'Do flights need approval for travel?', collectionIds: [id] } });
    expect(sent.errors).toBeUndefined();
    const reply = sent.data.chat.replies[0];
    const system = gateway.upstream.requests.find((request) => request.path.endsWith('/chat/completions'))!.body.messages[0];
    expect(system.role).toBe('system');
    expect(system.content).toMatch(/^\[source 1: handbook\.md\] Employees book trains .*Flights need a manager's approval\./m);
    expect(reply.citations[0]).toMatchObject({ index: 1, source: 'handbook.md', document: { id: documents[0]!.id } });
    expect(reply.citations[0].snippet).toContain("Flights need a manager's approval.");
    expect(reply.citations.map((citation: { index: number }) => citation.index)).toEqual(reply.citations.map((_: unknown, index: number) => index + 1));
    expect(reply.content).toContain('Sources: [1] handbook.md');

    // Another caller's collection cannot be named.
    const other = await gateway.user({ tier: 'BASIC', credits: 1_000_000 });
    expect(codeOf(await other.execute(SEND, { input: { content: 'flights?', collectionIds: [id] } }))).toBe('NOT_FOUND');
  });

  test('health says which vector ranking the database gives', async () => {
    const health = (await gateway.anonymous().execute(HEALTH)).data.health;
    const [row] = await gateway.app.services.db.prisma.$queryRaw<Array<{ available: boolean }>>`
      SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS available`;
    expect(health.vectorIndex).toBe(row?.available ? 'hnsw' : 'exact');
    if (health.database === 'pglite') expect(health.vectorIndex).toBe('hnsw');
    expect(['hnsw', 'exact']).toContain(health.vectorIndex);
  });

  test("another caller's collections are NOT_FOUND; an acting key reaches the member's", async () => {
    const owner = await gateway.user({ tier: 'BASIC' });
    const other = await gateway.user({ tier: 'BASIC' });
    const { id } = await collectionWith(owner, [{ source: 'a', text: 'Secret recipes of the house.' }]);
    expect((await other.execute(COLLECTION, { id })).data.collection).toBeNull();
    expect(codeOf(await other.execute(SEARCH, { query: 'recipes', ids: [id] }))).toBe('NOT_FOUND');
    expect(codeOf(await other.execute(ADD, { collectionId: id, texts: [{ source: 'b', text: 'x' }] }))).toBe('NOT_FOUND');
    expect(codeOf(await other.execute(DELETE, { id }))).toBe('NOT_FOUND');
    expect((await other.execute(COLLECTIONS)).data.collections).toEqual([]);

    const teamOwner = await gateway.user({ tier: 'ENTERPRISE', allowExternalUsage: true, credits: 1_000_000 });
    const member = await gateway.user({ tier: 'FREE' });
    const team = await gateway.app.services.admin.createTeam(teamOwner.id, `Team ${teamOwner.id.slice(-6)}`);
    await gateway.app.services.admin.addTeamMember(team.id, member.id);
    const asMember = gateway.anonymous({ authorization: `Bearer ${teamOwner.apiKey}`, 'x-acting-user-email': member.email });
    const made = (await asMember.execute(CREATE, { name: 'Member notes' })).data.createCollection;
    expect((await member.execute(COLLECTIONS)).data.collections.map((collection: { id: string }) => collection.id)).toEqual([made.id]);
    expect((await teamOwner.execute(COLLECTIONS)).data.collections).toEqual([]);
  });

  test('bad input names the problem: empty query, a file without text, a quota, a duplicate name', async () => {
    const user = await gateway.user({ tier: 'FREE' });
    const { id } = await collectionWith(user, [{ source: 'a', text: 'Alpha beta gamma.' }]);
    const empty = await user.execute(SEARCH, { query: '  ', ids: [id] });
    expect(codeOf(empty)).toBe('BAD_USER_INPUT');
    expect(empty.errors?.[0]?.message).toMatch(/search query/);

    const image = await user.upload(UPLOAD, { file: null }, { file: file(tinyPng, 'pixel.png', 'image/png') });
    const noText = await user.execute(ADD, { collectionId: id, fileIds: [image.data.uploadFile.id] });
    expect(codeOf(noText)).toBe('BAD_USER_INPUT');
    expect(noText.errors?.[0]?.message).toContain('pixel.png');

    const quota = gateway.app.services.config.knowledgeQuotas.FREE.documents;
    const many = Array.from({ length: quota }, (_, index) => ({ source: `n${index}`, text: `note ${index}` }));
    const over = await user.execute(ADD, { collectionId: id, texts: many });
    expect(codeOf(over)).toBe('BAD_USER_INPUT');
    expect(over.errors?.[0]?.extensions).toMatchObject({ quota: 'documents', limit: quota });
    expect(over.errors?.[0]?.message).toContain('documents');
    // Nothing of the refused call was stored.
    expect((await user.execute(COLLECTION, { id })).data.collection.documentCount).toBe(1);

    const name = (await user.execute(COLLECTION, { id })).data.collection.name;
    expect(codeOf(await user.execute(CREATE, { name }))).toBe('BAD_USER_INPUT');
  });

  test('removing documents and deleting a collection take their passages with them', async () => {
    const user = await gateway.user({ tier: 'BASIC' });
    const { id, documents } = await collectionWith(user, [
      { source: 'keep', text: 'Lighthouses guide ships along the rocky coast.' },
      { source: 'drop', text: 'Volcanoes erupt molten lava and ash.' },
    ]);
    await settled(user, id);
    expect((await user.execute(REMOVE, { collectionId: id, documentIds: [documents[1]!.id] })).data.removeFromCollection).toBe(true);
    const hits = (await user.execute(SEARCH, { query: 'volcanoes lava', ids: [id] })).data.searchKnowledge;
    expect(hits.every((hit: { document: { source: string } }) => hit.document.source === 'keep')).toBe(true);

    expect((await user.execute(DELETE, { id })).data.deleteCollection).toBe(true);
    expect(await gateway.app.services.db.prisma.knowledgeChunk.count({ where: { collectionId: id } })).toBe(0);
    expect((await user.execute(COLLECTION, { id })).data.collection).toBeNull();
  });
});

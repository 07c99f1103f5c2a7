import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../../src/lib/config.js';
import { dropSchema, openDatabase, type Database } from '../../src/lib/db.js';
import { createProviderRegistry } from '../../src/lib/llm/provider-registry.js';
import { createLogger } from '../../src/lib/logger.js';
import { createCatalogService } from '../../src/modules/catalog/catalog.service.js';
import { createIndexer } from '../../src/modules/knowledge/indexer.js';
import { detectVectorIndex } from '../../src/modules/knowledge/vector-index.js';
import { createEmbeddingsService } from '../../src/modules/search/embeddings.service.js';
import { createUsageService } from '../../src/modules/usage/usage.service.js';

// The demo provider's embedder through the openai SDK; the database is the suite's (PGlite, or TEST_DATABASE_URL).
const config = loadConfig({}, { logLevel: 'silent' });
const logger = createLogger('silent');
const registry = createProviderRegistry(config);
const catalog = createCatalogService(registry);
const databaseUrl = process.env.TEST_DATABASE_URL;
const schema = `test_indexer_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
let db: Database;

beforeAll(async () => {
  db = databaseUrl ? await openDatabase({ databaseUrl, schema }) : await openDatabase({ dataDir: 'memory://' });
}, 60_000);
afterAll(async () => {
  await db?.close();
  if (databaseUrl) await dropSchema(databaseUrl, schema);
});

async function indexerNamed(instanceId: string, orphanTimeoutMs = 1_000) {
  const embeddings = createEmbeddingsService(registry, catalog, createUsageService(db.prisma, catalog, logger), 'demo-embed');
  return createIndexer({
    prisma: db.prisma,
    embeddings,
    index: await detectVectorIndex(db.prisma),
    quotas: config.knowledgeQuotas,
    logger,
    instanceId,
    orphanTimeoutMs,
    pollMs: 50,
    embeddingBatch: 4,
  });
}

async function documentOf(text: string, state: Record<string, unknown> = {}) {
  const user = await db.prisma.user.create({ data: { email: `${randomUUID()}@example.com` } });
  const collection = await db.prisma.knowledgeCollection.create({ data: { ownerId: user.id, name: 'c' } });
  return db.prisma.knowledgeDocument.create({
    data: { collectionId: collection.id, billedUserId: user.id, source: 'notes.md', mimeType: 'text/markdown', bytes: text.length, text, ...state },
  });
}

const longText = Array.from({ length: 12 }, (_, index) => `## Part ${index}\n\n${'A sentence about the subject. '.repeat(50)}`).join('\n\n');

test('a document left INDEXING by an instance that went quiet is taken over, indexed once, and READY with every chunk', async () => {
  const stale = new Date(Date.now() - 60_000);
  const document = await documentOf(longText, { status: 'INDEXING', claimedBy: 'dead-instance', heartbeatAt: stale, attempt: 1 });
  await (await indexerNamed('survivor')).drain();
  const after = await db.prisma.knowledgeDocument.findUniqueOrThrow({ where: { id: document.id } });
  expect(after).toMatchObject({ status: 'READY', attempt: 2, claimedBy: null, text: null, error: null });
  const chunks = await db.prisma.knowledgeChunk.findMany({ where: { documentId: document.id }, orderBy: { position: 'asc' } });
  expect(chunks.length).toBe(after.chunkCount);
  expect(chunks.map((chunk) => chunk.position)).toEqual(chunks.map((_, index) => index));
  expect(chunks[0]!.headingPath).toEqual(['Part 0']);
  expect(chunks.every((chunk) => chunk.content.length <= 1_200)).toBe(true);
});

test('a claim whose instance still beats is left alone', async () => {
  const document = await documentOf('Fresh claim text.', { status: 'INDEXING', claimedBy: 'alive', heartbeatAt: new Date(), attempt: 1 });
  await (await indexerNamed('other', 60_000)).drain();
  expect(await db.prisma.knowledgeDocument.findUniqueOrThrow({ where: { id: document.id } })).toMatchObject({ status: 'INDEXING', claimedBy: 'alive' });
  expect(await db.prisma.knowledgeChunk.count({ where: { documentId: document.id } })).toBe(0);
});

test('a document that stopped its instance three times fails with the reason instead of looping', async () => {
  const document = await documentOf('Poison text.', { status: 'INDEXING', claimedBy: 'dead', heartbeatAt: new Date(Date.now() - 60_000), attempt: 3 });
  await (await indexerNamed('survivor')).drain();
  const after = await db.prisma.knowledgeDocument.findUniqueOrThrow({ where: { id: document.id } });
  expect(after.status).toBe('FAILED');
  expect(after.error).toMatch(/stopped 3 times/);
  expect(await db.prisma.knowledgeChunk.count({ where: { documentId: document.id } })).toBe(0);
});

test('over the chunks quota a document FAILS naming the quota, and nothing of it is stored', async () => {
  const indexer = createIndexer({
    prisma: db.prisma,
    embeddings: createEmbeddingsService(registry, catalog, createUsageService(db.prisma, catalog, logger), 'demo-embed'),
    index: await detectVectorIndex(db.prisma),
    quotas: { ...config.knowledgeQuotas, FREE: { ...config.knowledgeQuotas.FREE, chunks: 3 } },
    logger,
    instanceId: 'quota',
    orphanTimeoutMs: 1_000,
    pollMs: 50,
    embeddingBatch: 4,
  });
  const document = await documentOf(longText);
  await indexer.drain();
  const after = await db.prisma.knowledgeDocument.findUniqueOrThrow({ where: { id: document.id } });
  expect(after.status).toBe('FAILED');
  expect(after.error).toMatch(/chunks quota \(3\)/);
  expect(await db.prisma.knowledgeChunk.count({ where: { documentId: document.id } })).toBe(0);
});

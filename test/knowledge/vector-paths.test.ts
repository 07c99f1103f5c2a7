import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../../src/lib/config.js';
import { dropSchema, openDatabase, type Database } from '../../src/lib/db.js';
import { createProviderRegistry } from '../../src/lib/llm/provider-registry.js';
import { createLogger } from '../../src/lib/logger.js';
import { createCatalogService } from '../../src/modules/catalog/catalog.service.js';
import { createIndexer } from '../../src/modules/knowledge/indexer.js';
import { createKnowledgeSearch } from '../../src/modules/knowledge/knowledge-search.js';
import { detectVectorIndex, KNOWLEDGE_DIMENSIONS } from '../../src/modules/knowledge/vector-index.js';
import { createEmbeddingsService } from '../../src/modules/search/embeddings.service.js';
import { createUsageService } from '../../src/modules/usage/usage.service.js';

const postgresUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const postgresUp = await new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3_000 }).connect().then(
  (client) => client.end().then(() => true),
  () => false,
);

// The demo provider's embedder, reached through the openai SDK as in a server with nothing configured.
const config = loadConfig({}, { logLevel: 'silent' });
const logger = createLogger('silent');
const registry = createProviderRegistry(config);
const catalog = createCatalogService(registry);

// Forty documents of distinct words drawn from a small vocabulary (a fixed pseudo-random sequence), so
// that distances rarely tie: a tie may be ordered either way by an approximate index.
const vocabulary =
  'harbour glacier orchard violin satellite bakery volcano library tramway beehive river candle mosaic compass lantern meadow falcon quartz saddle tunnel ferry garden pepper marble anchor cactus prism thunder walnut canyon'.split(
    ' ',
  );
let seed = 7;
const next = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed;
};
const texts = Array.from({ length: 40 }, (_, index) => {
  const words = Array.from({ length: 6 + (index % 7) }, () => vocabulary[next() % vocabulary.length]);
  return { source: `doc-${index}.md`, text: `# Note ${index}\n\n${words.join(' ')}.` };
});
const queries = ['harbour lantern', 'glacier falcon quartz', 'violin and bakery', 'where is the satellite', 'tramway library river'];

interface Indexed {
  db: Database;
  kind: string;
  collectionId: string;
  search: ReturnType<typeof createKnowledgeSearch>;
  contentOf: Map<string, string>;
}

async function indexInto(db: Database): Promise<Indexed> {
  const usage = createUsageService(db.prisma, catalog, logger);
  const embeddings = createEmbeddingsService(registry, catalog, usage, 'demo-embed');
  const index = await detectVectorIndex(db.prisma);
  const user = await db.prisma.user.create({ data: { email: `${randomUUID()}@example.com` } });
  const collection = await db.prisma.knowledgeCollection.create({ data: { ownerId: user.id, name: 'paths' } });
  await db.prisma.knowledgeDocument.createMany({
    data: texts.map((item) => ({ ...item, collectionId: collection.id, billedUserId: user.id, mimeType: 'text/markdown', bytes: item.text.length })),
  });
  const indexer = createIndexer({
    prisma: db.prisma,
    embeddings,
    index,
    quotas: config.knowledgeQuotas,
    logger,
    instanceId: 'test',
    orphanTimeoutMs: 30_000,
    pollMs: 50,
    embeddingBatch: 16,
  });
  await indexer.drain();
  const chunks = await db.prisma.knowledgeChunk.findMany({ where: { collectionId: collection.id }, select: { id: true, content: true } });
  return {
    db,
    kind: index.kind,
    collectionId: collection.id,
    search: createKnowledgeSearch(db.prisma, embeddings, index),
    contentOf: new Map(chunks.map((chunk) => [chunk.id, chunk.content])),
  };
}

let embedded: Indexed;
let server: Indexed | undefined;
const schema = `test_paths_${randomUUID().replaceAll('-', '').slice(0, 16)}`;

beforeAll(async () => {
  embedded = await indexInto(await openDatabase({ dataDir: 'memory://' }));
  if (postgresUp || process.env.CI) server = await indexInto(await openDatabase({ databaseUrl: postgresUrl, schema }));
}, 60_000);

afterAll(async () => {
  await embedded?.db.close();
  await server?.db.close();
  if (server) await dropSchema(postgresUrl, schema);
});

test('the embedded database ranks through pgvector HNSW and every document was indexed', async () => {
  expect(embedded.kind).toBe('hnsw');
  expect(embedded.contentOf.size).toBe(texts.length);
  const ready = await embedded.db.prisma.knowledgeDocument.count({ where: { collectionId: embedded.collectionId, status: 'READY' } });
  expect(ready).toBe(texts.length);
});

test.runIf(postgresUp || process.env.CI)('HNSW and the exact scan give the same rankings on the same data', async () => {
  expect(server!.kind).toBe('exact');
  const embeddings = createEmbeddingsService(registry, catalog, createUsageService(embedded.db.prisma, catalog, logger), 'demo-embed');
  for (const query of queries) {
    const [vector] = (await embeddings.embed({ userId: 'bench', billedUserId: 'bench' }, [query], { dimensions: KNOWLEDGE_DIMENSIONS }))!;
    const ranking = async (side: Indexed) => {
      const nearest = await side.search.nearest([side.collectionId], vector!, 12);
      // pgvector computes in float4, the exact scan in float8: equal distances to 5 places are a tie, and
      // tied passages may come in either order; the 12th distance may be tied with passages left out.
      const cutoff = nearest.at(-1)!.distance - 1e-5;
      return {
        distances: nearest.map((hit) => hit.distance.toFixed(5)),
        passages: nearest
          .filter((hit) => hit.distance < cutoff)
          .map((hit) => `${hit.distance.toFixed(5)} ${side.contentOf.get(hit.id)}`)
          .sort(),
      };
    };
    const [exact, approximate] = [await ranking(server!), await ranking(embedded)];
    expect(exact.distances).toEqual(approximate.distances);
    expect(exact.passages).toEqual(approximate.passages);
    expect(exact.passages.length).toBeGreaterThan(3);
  }
});

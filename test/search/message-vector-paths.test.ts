import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../../src/lib/config.js';
import { dropSchema, openDatabase, type Database } from '../../src/lib/db.js';
import { createProviderRegistry } from '../../src/lib/llm/provider-registry.js';
import { createLogger } from '../../src/lib/logger.js';
import { createCatalogService } from '../../src/modules/catalog/catalog.service.js';
import { detectVectorIndex } from '../../src/modules/knowledge/vector-index.js';
import { createEmbeddingsService } from '../../src/modules/search/embeddings.service.js';
import { createMessageVectors, type MessageVectors } from '../../src/modules/search/message-vectors.js';
import { createUsageService } from '../../src/modules/usage/usage.service.js';

const postgresUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const postgresUp = await new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3_000 }).connect().then(
  (client) => client.end().then(() => true),
  () => false,
);

// The demo provider's embedder through the openai SDK, as in a server with nothing configured.
const config = loadConfig({}, { logLevel: 'silent' });
const logger = createLogger('silent');
const registry = createProviderRegistry(config);
const catalog = createCatalogService(registry);

// Messages of distinct words from a small vocabulary (a fixed pseudo-random sequence) so distances rarely tie.
const vocabulary =
  'harbour glacier orchard violin satellite bakery volcano library tramway beehive river candle mosaic compass lantern meadow falcon quartz saddle tunnel'.split(
    ' ',
  );
let seed = 11;
const next = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed;
};
const texts = Array.from({ length: 120 }, (_, index) => Array.from({ length: 4 + (index % 6) }, () => vocabulary[next() % vocabulary.length]).join(' '));
const queries = ['harbour lantern', 'glacier falcon quartz', 'violin and bakery', 'tramway library river'];

interface Side {
  db: Database;
  kind: string;
  ownerId: string;
  vectors: MessageVectors;
  contentOf: Map<string, string>;
}

async function fill(db: Database): Promise<Side> {
  const embeddings = createEmbeddingsService(registry, catalog, createUsageService(db.prisma, catalog, logger), 'demo-embed');
  const index = await detectVectorIndex(db.prisma);
  const vectors = createMessageVectors(db.prisma, embeddings, index, logger);
  const owner = await db.prisma.user.create({ data: { email: `${randomUUID()}@example.com` } });
  const other = await db.prisma.user.create({ data: { email: `${randomUUID()}@example.com` } });
  for (const user of [owner, other]) {
    const conversation = await db.prisma.conversation.create({ data: { ownerId: user.id, title: 'paths' } });
    await db.prisma.message.createMany({ data: texts.map((content) => ({ conversationId: conversation.id, role: 'USER' as const, content })) });
  }
  await vectors.backfill(new AbortController().signal);
  const messages = await db.prisma.message.findMany({ where: { conversation: { ownerId: owner.id } }, select: { id: true, content: true } });
  return { db, kind: index.kind, ownerId: owner.id, vectors, contentOf: new Map(messages.map((message) => [message.id, message.content])) };
}

let embedded: Side;
let server: Side | undefined;
const schema = `test_msgpaths_${randomUUID().replaceAll('-', '').slice(0, 16)}`;

beforeAll(async () => {
  embedded = await fill(await openDatabase({ dataDir: 'memory://' }));
  if (postgresUp || process.env.CI) server = await fill(await openDatabase({ databaseUrl: postgresUrl, schema }));
}, 60_000);

afterAll(async () => {
  await embedded?.db.close();
  await server?.db.close();
  if (server) await dropSchema(postgresUrl, schema);
});

test.runIf(postgresUp || process.env.CI)("HNSW and the exact scan rank the owner's messages the same", async () => {
  expect([embedded.kind, server!.kind]).toEqual(['hnsw', 'exact']);
  for (const query of queries) {
    const vector = (await embedded.vectors.queryVector({ userId: embedded.ownerId, billedUserId: embedded.ownerId }, query))!;
    const ranking = async (side: Side) => {
      const nearest = await side.vectors.nearest(side.ownerId, null, vector, 12);
      // float4 (pgvector) against float8 (exact scan): equal to 5 places is a tie, in either order; the
      // last distance may be tied with messages left out.
      const cutoff = nearest.at(-1)!.distance - 1e-5;
      expect(nearest.every((hit) => side.contentOf.has(hit.id))).toBe(true);
      return {
        distances: nearest.map((hit) => hit.distance.toFixed(5)),
        messages: nearest
          .filter((hit) => hit.distance < cutoff)
          .map((hit) => `${hit.distance.toFixed(5)} ${hit.content}`)
          .sort(),
      };
    };
    const [exact, approximate] = [await ranking(server!), await ranking(embedded)];
    expect(exact.distances).toEqual(approximate.distances);
    expect(exact.messages).toEqual(approximate.messages);
    expect(exact.messages.length).toBeGreaterThan(3);
  }
});

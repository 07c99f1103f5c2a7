// npx tsx bench/knowledge-search.ts [chunks...]   (default: 10000 100000)
// Search latency of searchKnowledge's statement (vector ranking fused with
// full-text rank) on the embedded PGlite (pgvector HNSW) and on PostgreSQL
// (BENCH_DATABASE_URL, default the local server; an exact scan where it has no
// pgvector). Chunks are made in SQL: random 256-dimension vectors and text from
// a 2,000-word vocabulary, one collection holding them all.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Prisma } from '../src/generated/prisma/client.js';
import { dropSchema, openDatabase, type Database } from '../src/lib/db.js';
import { createLogger } from '../src/lib/logger.js';
import { createKnowledgeSearch } from '../src/modules/knowledge/knowledge-search.js';
import { detectVectorIndex, KNOWLEDGE_DIMENSIONS } from '../src/modules/knowledge/vector-index.js';
import { createEmbeddingsService } from '../src/modules/search/embeddings.service.js';

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const postgresUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 30);

// pgvector builds an HNSW index far faster over loaded rows than row by row,
// so the bulk load runs without it and the index is built after, timed apart.
// (The indexer writes chunks one document at a time, paying the insert cost.)
async function fill(db: Database, chunks: number, kind: string): Promise<{ collectionId: string; loadMs: number; indexMs: number }> {
  const user = await db.prisma.user.create({ data: { email: `${randomUUID()}@bench.local` } });
  const collection = await db.prisma.knowledgeCollection.create({ data: { ownerId: user.id, name: 'bench' } });
  const document = await db.prisma.knowledgeDocument.create({
    data: { collectionId: collection.id, billedUserId: user.id, source: 'bench', mimeType: 'text/plain', bytes: 0, status: 'READY' },
  });
  const vectorType = Prisma.raw(kind === 'hnsw' ? 'vector' : 'float8[]');
  if (kind === 'hnsw') await db.prisma.$executeRawUnsafe('DROP INDEX "KnowledgeChunk_embedding_idx"');
  const started = performance.now();
  for (let start = 0; start < chunks; start += 5_000) {
    const end = Math.min(chunks, start + 5_000) - 1;
    await db.prisma.$executeRaw`
      INSERT INTO "KnowledgeChunk" (id, "documentId", "collectionId", position, content, "tokenCount", "searchText", embedding)
      SELECT gen_random_uuid()::text, ${document.id}, ${collection.id}, g, t.content, 12, to_tsvector('english', t.content),
             CAST((SELECT array_agg(random() - 0.5 + 0 * d * g) FROM generate_series(1, ${KNOWLEDGE_DIMENSIONS}::int) AS d) AS float8[])::${vectorType}
      FROM generate_series(${start}::int, ${end}::int) AS g,
           LATERAL (SELECT string_agg('word' || ((g * 7919 + w * 104729) % 2000), ' ') AS content FROM generate_series(1, 12) AS w) AS t`;
  }
  const loaded = performance.now();
  if (kind === 'hnsw') {
    await db.prisma.$executeRawUnsafe(`SET maintenance_work_mem = '512MB'`);
    await db.prisma.$executeRawUnsafe('CREATE INDEX "KnowledgeChunk_embedding_idx" ON "KnowledgeChunk" USING hnsw ("embedding" vector_cosine_ops)');
  }
  // What autovacuum (the server) or the embedded maintenance timer does within a minute of the load;
  // without statistics the planner takes 100,000 chunks for an empty table.
  await db.prisma.$executeRawUnsafe('ANALYZE "KnowledgeChunk"');
  return { collectionId: collection.id, loadMs: loaded - started, indexMs: performance.now() - loaded };
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

async function measure(label: string, open: () => Promise<Database>, cleanup: () => Promise<void>) {
  for (const size of sizes.length ? sizes : [10_000, 100_000]) {
    const db = await open();
    try {
      const index = await detectVectorIndex(db.prisma);
      const search = createKnowledgeSearch(db.prisma, createEmbeddingsService({} as never, {} as never, {} as never, undefined), index);
      const { collectionId, loadMs, indexMs } = await fill(db, size, index.kind);
      const latencies: number[] = [];
      for (let round = 0; round < SEARCHES + 3; round += 1) {
        const vector = Array.from({ length: KNOWLEDGE_DIMENSIONS }, () => Math.random() - 0.5);
        const started = performance.now();
        await search.rank([collectionId], `word${round * 37} word${round * 11}`, vector, 10);
        if (round >= 3) latencies.push(performance.now() - started);
      }
      console.log(
        JSON.stringify({
          database: label,
          vectorIndex: index.kind,
          chunks: size,
          loadSeconds: Math.round(loadMs / 100) / 10,
          indexBuildSeconds: Math.round(indexMs / 100) / 10,
          p50Ms: Math.round(percentile(latencies, 0.5)),
          p95Ms: Math.round(percentile(latencies, 0.95)),
        }),
      );
    } finally {
      await db.close();
      await cleanup();
    }
  }
}

const logger = createLogger('warn');
await measure(
  'pglite',
  () => openDatabase({ dataDir: 'memory://', logger }),
  async () => {},
);
const schema = `bench_knowledge_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
await measure(
  'postgresql',
  () => openDatabase({ databaseUrl: postgresUrl, schema, logger }),
  () => dropSchema(postgresUrl, schema),
);

// npx tsx bench/message-search.ts [messages...]   (default: 10000)
// Latency of semantic message search (searchMessages' statement: the caller's nearest messages
// on the vector index) on the embedded PGlite (pgvector HNSW) and on PostgreSQL (BENCH_DATABASE_URL,
// default the local server; an exact scan where it has no pgvector). One user owns every message,
// in conversations of 100; texts come from a 2,000-word vocabulary, embedded by the demo embedder.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Prisma } from '../src/generated/prisma/client.js';
import { dropSchema, openDatabase, type Database } from '../src/lib/db.js';
import { embed } from '../src/lib/llm/demo-replies.js';
import { createLogger } from '../src/lib/logger.js';
import { detectVectorIndex, KNOWLEDGE_DIMENSIONS } from '../src/modules/knowledge/vector-index.js';
import { createEmbeddingsService } from '../src/modules/search/embeddings.service.js';
import { createMessageVectors } from '../src/modules/search/message-vectors.js';

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const postgresUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 30);
const text = (n: number, words = 12) => Array.from({ length: words }, (_, w) => `word${(n * 7919 + w * 104729) % 2000}`).join(' ');

async function fill(db: Database, messages: number, kind: string): Promise<{ ownerId: string; loadMs: number }> {
  const user = await db.prisma.user.create({ data: { email: `${randomUUID()}@bench.local` } });
  const started = performance.now();
  for (let start = 0; start < messages; start += 100) {
    const conversation = await db.prisma.conversation.create({ data: { ownerId: user.id, title: `bench ${start}` } });
    const contents = Array.from({ length: Math.min(100, messages - start) }, (_, offset) => text(start + offset));
    const vectors = contents.map((content) => {
      const vector = embed(content, KNOWLEDGE_DIMENSIONS);
      return kind === 'hnsw' ? `[${vector.join(',')}]` : `{${vector.join(',')}}`;
    });
    await db.prisma.$executeRaw`
      INSERT INTO "Message" (id, "conversationId", role, content, embedding)
      SELECT gen_random_uuid()::text, ${conversation.id}, 'USER', v.content, v.vector::${Prisma.raw(kind === 'hnsw' ? 'vector' : 'float8[]')}
      FROM unnest(${contents}::text[], ${vectors}::text[]) AS v(content, vector)`;
  }
  return { ownerId: user.id, loadMs: performance.now() - started };
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

async function measure(label: string, open: () => Promise<Database>, cleanup: () => Promise<void>) {
  for (const size of sizes.length ? sizes : [10_000]) {
    const db = await open();
    try {
      const index = await detectVectorIndex(db.prisma);
      const embeddings = createEmbeddingsService({} as never, {} as never, {} as never, undefined);
      const vectors = createMessageVectors(db.prisma, embeddings, index, createLogger('warn'));
      const { ownerId, loadMs } = await fill(db, size, index.kind);
      const latencies: number[] = [];
      for (let round = 0; round < SEARCHES + 3; round += 1) {
        const query = embed(text(round * 37 + 5, 3), KNOWLEDGE_DIMENSIONS);
        const started = performance.now();
        await vectors.nearest(ownerId, null, query, 10);
        if (round >= 3) latencies.push(performance.now() - started);
      }
      console.log(
        JSON.stringify({
          database: label,
          vectorIndex: index.kind,
          messages: size,
          loadSeconds: Math.round(loadMs / 100) / 10,
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
const schema = `bench_messages_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
await measure(
  'postgresql',
  () => openDatabase({ databaseUrl: postgresUrl, schema, logger }),
  () => dropSchema(postgresUrl, schema),
);

import { v7 as uuidv7 } from 'uuid';
import { truncated } from '../../lib/text.js';
import { Prisma, type KnowledgeDocument, type PrismaClient } from '../../generated/prisma/client.js';
import type { KnowledgeQuota, TierName } from '../../lib/config.js';
import type { Logger } from '../../lib/logger.js';
import { countTokens } from '../../lib/tokens.js';
import { createWorkLoop } from '../../lib/work-loop.js';
import type { EmbeddingsService } from '../search/embeddings.service.js';
import { type Chunk, chunkText } from './chunking.js';
import { KNOWLEDGE_DIMENSIONS, type VectorIndex } from './vector-index.js';

export interface IndexerDeps {
  prisma: PrismaClient;
  embeddings: EmbeddingsService;
  index: VectorIndex;
  quotas: Record<TierName, KnowledgeQuota>;
  logger: Logger;
  /** Names this instance in `claimedBy`. */
  instanceId: string;
  /** A claim whose heartbeat is older than this was left by a dead instance. */
  orphanTimeoutMs: number;
  pollMs: number;
  embeddingBatch: number;
  /** Runs after which a document that keeps stopping its instance fails instead. */
  maxAttempts?: number;
}

/** The indexing went wrong in a way the user should read on the document. */
class IndexingFailure extends Error {}

/** This instance no longer holds the document (deleted, or taken over). */
class ClaimLost extends Error {}

const ROWS_PER_INSERT = 200;

/**
 * The indexing queue: any instance may run it. A document is claimed by a
 * conditional update, kept alive by a heartbeat and taken over when that goes
 * stale, like batch jobs. Chunks are written in the same transaction that
 * marks the document READY, so a crash leaves it re-queued, never half-indexed.
 */
export function createIndexer(deps: IndexerDeps) {
  const { prisma } = deps;
  const maxAttempts = deps.maxAttempts ?? 3;
  const worker = createWorkLoop({
    claimNext: () => claimNext(),
    run: (document: KnowledgeDocument) => indexDocument(document),
    pollMs: deps.pollMs,
    onError: (error, document) => deps.logger.error({ err: error, documentId: document?.id }, 'knowledge indexer failed'),
  });

  const claimable = (staleBefore: Date) => ({ OR: [{ status: 'QUEUED' as const }, { status: 'INDEXING' as const, heartbeatAt: { lt: staleBefore } }] });

  async function claimNext(): Promise<KnowledgeDocument | null> {
    const staleBefore = new Date(Date.now() - deps.orphanTimeoutMs);
    const candidate = await prisma.knowledgeDocument.findFirst({ where: claimable(staleBefore), orderBy: { createdAt: 'asc' } });
    if (!candidate) return null;
    const { count } = await prisma.knowledgeDocument.updateMany({
      where: { id: candidate.id, attempt: candidate.attempt, ...claimable(staleBefore) },
      data: { status: 'INDEXING', claimedBy: deps.instanceId, heartbeatAt: new Date(), attempt: { increment: 1 } },
    });
    if (count === 0) return null;
    return { ...candidate, status: 'INDEXING', claimedBy: deps.instanceId, attempt: candidate.attempt + 1 };
  }

  const held = (document: KnowledgeDocument) => ({ id: document.id, claimedBy: deps.instanceId, status: 'INDEXING' as const, attempt: document.attempt });

  async function stillHeld(document: KnowledgeDocument) {
    const { count } = await prisma.knowledgeDocument.updateMany({ where: held(document), data: { heartbeatAt: new Date() } });
    if (count === 0) throw new ClaimLost();
  }

  async function embedAll(document: KnowledgeDocument, chunks: Chunk[]): Promise<number[][]> {
    if (!deps.embeddings.available) throw new IndexingFailure('No embedding model is configured.');
    const actor = { userId: document.billedUserId, billedUserId: document.billedUserId, apiKeyId: document.apiKeyId ?? undefined };
    const vectors: number[][] = [];
    for (let start = 0; start < chunks.length; start += deps.embeddingBatch) {
      await stillHeld(document);
      const batch = chunks.slice(start, start + deps.embeddingBatch).map((chunk) => [...chunk.headingPath, chunk.content].join('\n'));
      const made = await deps.embeddings.embed(actor, batch, { action: 'INDEXING', dimensions: KNOWLEDGE_DIMENSIONS });
      if (!made || made.length !== batch.length) throw new IndexingFailure('The embedding model returned no vectors.');
      const wrong = made.find((vector) => vector.length !== KNOWLEDGE_DIMENSIONS);
      if (wrong) throw new IndexingFailure(`The embedding model returned ${wrong.length} dimensions; the index holds ${KNOWLEDGE_DIMENSIONS}.`);
      vectors.push(...made);
    }
    return vectors;
  }

  function insertRows(document: KnowledgeDocument, chunks: Chunk[], vectors: number[][]): Prisma.Sql {
    const rows = chunks.map(
      (chunk, index) => Prisma.sql`(${uuidv7()}, ${document.id}, ${document.collectionId}, ${chunk.position}::int, ${chunk.headingPath}::text[],
        ${chunk.content}, ${countTokens(chunk.content)}::int, to_tsvector('english', ${[...chunk.headingPath, chunk.content].join('\n')}),
        ${deps.index.parameter(vectors[index]!)})`,
    );
    return Prisma.sql`INSERT INTO "KnowledgeChunk" (id, "documentId", "collectionId", position, "headingPath", content, "tokenCount", "searchText", embedding)
      VALUES ${Prisma.join(rows)}`;
  }

  /** All chunks and READY in one transaction, only while this instance still holds the document. */
  async function store(document: KnowledgeDocument, chunks: Chunk[], vectors: number[][]) {
    const tokenCount = chunks.reduce((total, chunk) => total + countTokens(chunk.content), 0);
    await prisma.$transaction(async (transaction) => {
      const { count } = await transaction.knowledgeDocument.updateMany({
        where: held(document),
        data: { status: 'READY', error: null, chunkCount: chunks.length, tokenCount, text: null, claimedBy: null, indexedAt: new Date() },
      });
      if (count === 0) throw new ClaimLost();
      for (let start = 0; start < chunks.length; start += ROWS_PER_INSERT) {
        await transaction.$executeRaw(insertRows(document, chunks.slice(start, start + ROWS_PER_INSERT), vectors.slice(start, start + ROWS_PER_INSERT)));
      }
    });
  }

  async function checkChunkQuota(document: KnowledgeDocument, chunks: Chunk[]) {
    const collection = await prisma.knowledgeCollection.findUnique({ where: { id: document.collectionId }, select: { owner: { select: { tier: true } } } });
    if (!collection) throw new ClaimLost();
    const limit = deps.quotas[collection.owner.tier].chunks;
    const stored = await prisma.knowledgeChunk.count({ where: { collectionId: document.collectionId } });
    if (stored + chunks.length > limit) {
      throw new IndexingFailure(
        `The collection's chunks quota (${limit}) leaves room for ${Math.max(0, limit - stored)}; this document needs ${chunks.length}.`,
      );
    }
  }

  async function fail(document: KnowledgeDocument, reason: string) {
    await prisma.knowledgeDocument.updateMany({ where: held(document), data: { status: 'FAILED', error: truncated(reason, 500), claimedBy: null } });
  }

  async function indexDocument(document: KnowledgeDocument) {
    try {
      if (document.attempt > maxAttempts) throw new IndexingFailure(`Indexing stopped ${maxAttempts} times before it finished.`);
      const chunks = await chunkText(document.text ?? '');
      if (chunks.length === 0) throw new IndexingFailure('The document has no text to index.');
      await checkChunkQuota(document, chunks);
      await store(document, chunks, await embedAll(document, chunks));
    } catch (error) {
      if (error instanceof ClaimLost) return;
      if (error instanceof IndexingFailure) return fail(document, error.message);
      deps.logger.warn({ err: error, documentId: document.id }, 'indexing a document failed');
      await fail(document, `Indexing failed: ${error instanceof Error ? error.message : 'unexpected error'}`);
    }
  }

  return {
    wake: worker.wake,
    start: worker.start,
    stop: worker.stop,
    /** Indexes what is waiting now and returns (for scripts and tests that run no loop). */
    async drain() {
      for (let document = await claimNext(); document; document = await claimNext()) await indexDocument(document);
    },
  };
}

export type Indexer = ReturnType<typeof createIndexer>;

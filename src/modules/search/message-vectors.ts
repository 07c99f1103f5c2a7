import { Prisma, type PrismaClient } from '../../generated/prisma/client.js';
import type { Logger } from '../../lib/logger.js';
import type { Actor } from '../identity/actor.js';
import { KNOWLEDGE_DIMENSIONS, type VectorIndex } from '../knowledge/vector-index.js';
import type { EmbeddingsService } from './embeddings.service.js';

/** Messages embedded per request of the startup backfill. */
const BACKFILL_BATCH = 64;

export interface NearestMessage {
  id: string;
  conversationId: string;
  content: string;
  distance: number;
}

/**
 * Message vectors on the knowledge chunks' index: "Message"."embedding" is pgvector with HNSW or
 * float8[] with an exact scan, whichever the database has, ranked by the same SQL.
 * Only messages of public conversations are ever embedded.
 */
export function createMessageVectors(prisma: PrismaClient, embeddings: EmbeddingsService, index: VectorIndex, logger: Logger) {
  async function run<T>(statement: Prisma.Sql): Promise<T[]> {
    const settings = index.searchSettings();
    if (settings.length === 0) return prisma.$queryRaw<T[]>(statement);
    const results = await prisma.$transaction([...settings.map((setting) => prisma.$executeRaw(setting)), prisma.$queryRaw<T[]>(statement)]);
    return results.at(-1) as T[];
  }

  /** Stores the vectors of the index's length; returns how many. */
  async function write(rows: Array<{ id: string }>, vectors: number[][]): Promise<number> {
    const valid = rows.flatMap((row, position) => (vectors[position]?.length === KNOWLEDGE_DIMENSIONS ? [{ id: row.id, vector: vectors[position]! }] : []));
    if (valid.length === 0) return 0;
    await prisma.$transaction(
      valid.map((row) => prisma.$executeRaw`UPDATE "Message" SET embedding = ${index.parameter(row.vector)} WHERE id = ${row.id} AND embedding IS NULL`),
    );
    return valid.length;
  }

  /** Public-conversation messages among ids (or the oldest of all, for the backfill) that have text and no vector yet. */
  function pending(ids: string[] | null, limit: number) {
    return prisma.$queryRaw<Array<{ id: string; content: string; ownerId: string }>>`
      SELECT m.id, m.content, c."ownerId" FROM "Message" m JOIN "Conversation" c ON c.id = m."conversationId"
      WHERE m.embedding IS NULL AND m.content <> '' AND c.privacy = 'PUBLIC'
        AND (${ids}::text[] IS NULL OR m.id = ANY(${ids}::text[]))
      ORDER BY m.position
      LIMIT ${limit}`;
  }

  return {
    async queryVector(actor: Pick<Actor, 'userId' | 'billedUserId' | 'apiKeyId'>, query: string): Promise<number[] | null> {
      const [vector] = (await embeddings.embed(actor, [query], { dimensions: KNOWLEDGE_DIMENSIONS })) ?? [];
      return vector?.length === KNOWLEDGE_DIMENSIONS ? vector : null;
    },

    /** The owner's messages nearest to vector (cosine distance under 1), optionally in one conversation. */
    async nearest(ownerId: string, conversationId: string | null, vector: number[], limit: number): Promise<NearestMessage[]> {
      const distance = index.distance(Prisma.sql`m.embedding`, vector);
      // The inner ORDER BY is the distance alone so pgvector can walk its HNSW index (iteratively, past other owners' rows).
      const rows = await run<NearestMessage & { position: bigint }>(Prisma.sql`
        SELECT id, "conversationId", content, distance::float8 AS distance FROM (
          SELECT m.id, m."conversationId", m.content, m.position, ${distance} AS distance
          FROM "Message" m JOIN "Conversation" c ON c.id = m."conversationId"
          WHERE c."ownerId" = ${ownerId} AND c.privacy = 'PUBLIC' AND m.embedding IS NOT NULL
            AND (${conversationId}::text IS NULL OR m."conversationId" = ${conversationId})
          ORDER BY ${distance}
          LIMIT ${limit}
        ) nearest
        WHERE distance < 1
        ORDER BY distance, position DESC`);
      return rows.map((row) => ({ ...row, distance: Number(row.distance) }));
    },

    /** Embeds the given messages if they have none yet; the caller's usage pays, as for any embedding. */
    async store(actor: Actor, messageIds: string[]): Promise<void> {
      const rows = await pending(messageIds, messageIds.length);
      const vectors = await embeddings.embed(
        actor,
        rows.map((row) => row.content),
        { dimensions: KNOWLEDGE_DIMENSIONS },
      );
      if (vectors) await write(rows, vectors);
    },

    /**
     * Embeds, oldest first, messages stored before the vector index (or while no embedding model was
     * configured). Their owners paid for these texts' embeddings once; this pass is not charged again.
     */
    async backfill(signal: AbortSignal): Promise<number> {
      if (!embeddings.available) return 0;
      let done = 0;
      while (!signal.aborted) {
        const rows = await pending(null, BACKFILL_BATCH);
        if (rows.length === 0) break;
        const vectors = await embeddings.embed(
          { userId: rows[0]!.ownerId, billedUserId: rows[0]!.ownerId },
          rows.map((row) => row.content),
          { dimensions: KNOWLEDGE_DIMENSIONS, unmetered: true },
        );
        const written = vectors ? await write(rows, vectors) : 0;
        done += written;
        if (written < rows.length) {
          logger.warn({ messages: rows.length - written }, 'the embedding model returned no usable vectors; existing messages stay unindexed');
          break;
        }
      }
      if (done > 0) logger.info({ messages: done }, 'embedded existing messages for search');
      return done;
    },
  };
}

export type MessageVectors = ReturnType<typeof createMessageVectors>;

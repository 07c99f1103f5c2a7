import type { PrismaClient } from '../../generated/prisma/client.js';
import { badInput } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Actor } from '../identity/actor.js';
import type { EmbeddingsService } from './embeddings.service.js';
import type { MessageVectors } from './message-vectors.js';

export interface MessageMatch {
  messageId: string;
  conversationId: string;
  score: number;
  snippet: string;
}

const MAX_RESULTS = 50;

function excerpt(content: string, length = 160): string {
  const flat = content.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

export function createSearchService(prisma: PrismaClient, embeddings: EmbeddingsService, vectors: MessageVectors, logger: Logger) {
  /** Every message of the caller's public conversations, nearest first on the vector index. */
  async function semanticMatches(actor: Actor, query: string, conversationId: string | null, limit: number): Promise<MessageMatch[]> {
    const vector = await vectors.queryVector(actor, query);
    if (!vector) return [];
    const rows = await vectors.nearest(actor.userId, conversationId, vector, limit);
    return rows.map((row) => ({ messageId: row.id, conversationId: row.conversationId, score: 1 - row.distance, snippet: excerpt(row.content) }));
  }

  /** PostgreSQL full-text search (tsvector), in PGlite as in the server. */
  async function fullTextMatches(actor: Actor, query: string, conversationId: string | null, limit: number): Promise<MessageMatch[]> {
    const rows = await prisma.$queryRaw<Array<{ id: string; conversationId: string; score: number; snippet: string }>>`
      SELECT m.id, m."conversationId",
             ts_rank(to_tsvector('english', m.content), websearch_to_tsquery('english', ${query}))::float8 AS score,
             ts_headline('english', m.content, websearch_to_tsquery('english', ${query}), 'MaxWords=24, MinWords=8, StartSel=**, StopSel=**') AS snippet
      FROM "Message" m JOIN "Conversation" c ON c.id = m."conversationId"
      WHERE c."ownerId" = ${actor.userId}
        AND c.privacy = 'PUBLIC'
        AND (${conversationId}::text IS NULL OR m."conversationId" = ${conversationId})
        AND to_tsvector('english', m.content) @@ websearch_to_tsquery('english', ${query})
      ORDER BY score DESC, m.position DESC
      LIMIT ${limit}`;
    return rows.map((row) => ({ messageId: row.id, conversationId: row.conversationId, score: Number(row.score), snippet: row.snippet }));
  }

  let backfill: AbortController | undefined;
  let backfilling: Promise<void> = Promise.resolve();

  function validate(query: string, first: number | null | undefined): number {
    if (!query.trim() || query.length > 500) throw badInput('search.query', { max: 500 });
    const limit = first ?? 10;
    if (limit < 1 || limit > MAX_RESULTS) throw badInput('input.pageSize', { argument: 'first', max: MAX_RESULTS });
    return limit;
  }

  async function messages(actor: Actor, query: string, options: { conversationId: string | null; limit: number; semantic: boolean }) {
    return options.semantic && embeddings.available
      ? semanticMatches(actor, query, options.conversationId, options.limit)
      : fullTextMatches(actor, query, options.conversationId, options.limit);
  }

  return {
    async searchMessages(actor: Actor, query: string, options: { conversationId?: string | null; first?: number | null; semantic: boolean }) {
      const limit = validate(query, options.first);
      return messages(actor, query, { conversationId: options.conversationId ?? null, limit, semantic: options.semantic });
    },

    /** Conversations ranked by their best-matching message. */
    async searchConversations(actor: Actor, query: string, options: { first?: number | null; semantic: boolean }) {
      const limit = validate(query, options.first);
      const matches = await messages(actor, query, { conversationId: null, limit: limit * 10, semantic: options.semantic });
      const best = new Map<string, MessageMatch>();
      for (const match of matches) if (!best.has(match.conversationId)) best.set(match.conversationId, match);
      return [...best.values()].slice(0, limit);
    },

    /** Stores the meaning of messages that have none yet; best effort, in the background of a turn. */
    async index(actor: Actor, messageIds: string[]): Promise<void> {
      if (!embeddings.available) return;
      try {
        await vectors.store(actor, messageIds);
      } catch (error) {
        logger.warn({ err: error, messageIds }, 'indexing messages for search failed');
      }
    },

    /** Embeds, in the background, messages stored before the index; stopBackfill ends it. */
    startBackfill(): void {
      backfill = new AbortController();
      const { signal } = backfill;
      backfilling = vectors.backfill(signal).then(
        () => undefined,
        (error: unknown) => {
          if (!signal.aborted) logger.warn({ err: error }, 'embedding existing messages for search failed; the next start resumes');
        },
      );
    },

    async stopBackfill(): Promise<void> {
      backfill?.abort();
      await backfilling;
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;

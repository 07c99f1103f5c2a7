import { Prisma, type PrismaClient } from '../../generated/prisma/client.js';
import type { Actor } from '../identity/actor.js';
import type { EmbeddingsService } from '../search/embeddings.service.js';
import { KNOWLEDGE_DIMENSIONS, type VectorIndex } from './vector-index.js';

export interface KnowledgeHitRow {
  chunkId: string;
  documentId: string;
  content: string;
  headingPath: string[];
  /** Reciprocal rank fusion of the meaning and the word rankings: higher is better. */
  score: number;
  /** 1 for the best hit. */
  rank: number;
}

/** RRF's damping constant, the value of the original paper (Cormack et al., 2009). */
const RRF_K = 60;

/**
 * Ranks passages of the given collections by meaning (vector distance) and by
 * words (PostgreSQL full-text rank) and fuses both rankings in one statement.
 * Ties break by chunk id so every run, and both vector paths, agree.
 */
export function createKnowledgeSearch(prisma: PrismaClient, embeddings: EmbeddingsService, index: VectorIndex) {
  function vectorRanking(collectionIds: string[], vector: number[] | null, candidates: number): Prisma.Sql {
    if (!vector) return Prisma.sql`SELECT NULL::text AS id, NULL::float8 AS distance, NULL::bigint AS rank WHERE false`;
    const distance = index.distance(Prisma.sql`c."embedding"`, vector);
    return Prisma.sql`
      SELECT id, distance, row_number() OVER (ORDER BY distance, id) AS rank FROM (
        SELECT c.id, ${distance} AS distance FROM "KnowledgeChunk" c
        WHERE c."collectionId" = ANY(${collectionIds})
        ORDER BY ${distance}
        LIMIT ${candidates}
      ) nearest`;
  }

  function textRanking(collectionIds: string[], query: string, candidates: number): Prisma.Sql {
    return Prisma.sql`
      SELECT id, row_number() OVER (ORDER BY score DESC, id) AS rank FROM (
        SELECT c.id, ts_rank_cd(c."searchText", q.query) AS score
        FROM "KnowledgeChunk" c, websearch_to_tsquery('english', ${query}) AS q(query)
        WHERE c."collectionId" = ANY(${collectionIds}) AND c."searchText" @@ q.query
        ORDER BY score DESC, c.id
        LIMIT ${candidates}
      ) matching`;
  }

  async function queryVector(actor: Actor, query: string): Promise<number[] | null> {
    if (!embeddings.available) return null;
    const [vector] = (await embeddings.embed(actor, [query], { dimensions: KNOWLEDGE_DIMENSIONS })) ?? [];
    return vector?.length === KNOWLEDGE_DIMENSIONS ? vector : null;
  }

  /** Runs one statement with the index's settings for it (in one transaction when there are any). */
  async function run<T>(statement: Prisma.Sql): Promise<T[]> {
    const settings = index.searchSettings();
    if (settings.length === 0) return prisma.$queryRaw<T[]>(statement);
    const results = await prisma.$transaction([...settings.map((setting) => prisma.$executeRaw(setting)), prisma.$queryRaw<T[]>(statement)]);
    return results.at(-1) as T[];
  }

  /** Collections must already be checked as the caller's. */
  async function rank(collectionIds: string[], query: string, vector: number[] | null, first: number): Promise<KnowledgeHitRow[]> {
    const candidates = Math.max(first * 4, 40);
    const statement = Prisma.sql`
      WITH by_meaning AS (${vectorRanking(collectionIds, vector, candidates)}),
           by_words AS (${textRanking(collectionIds, query, candidates)}),
           fused AS (
             SELECT id, sum(1.0 / (${Prisma.raw(String(RRF_K))} + rank))::float8 AS score
             FROM (SELECT id, rank FROM by_meaning UNION ALL SELECT id, rank FROM by_words) ranked
             GROUP BY id
           )
      SELECT c.id AS "chunkId", c."documentId", c.content, c."headingPath", f.score
      FROM fused f JOIN "KnowledgeChunk" c ON c.id = f.id
      ORDER BY f.score DESC, c.id
      LIMIT ${first}`;
    const settings = index.searchSettings();
    const rows =
      settings.length === 0
        ? await prisma.$queryRaw<Omit<KnowledgeHitRow, 'rank'>[]>(statement)
        : (
            await prisma.$transaction([...settings.map((setting) => prisma.$executeRaw(setting)), prisma.$queryRaw<Omit<KnowledgeHitRow, 'rank'>[]>(statement)])
          ).at(-1);
    return (rows as Omit<KnowledgeHitRow, 'rank'>[]).map((row, position) => ({ ...row, score: Number(row.score), rank: position + 1 }));
  }

  return {
    async search(actor: Actor, collectionIds: string[], query: string, first: number): Promise<KnowledgeHitRow[]> {
      if (collectionIds.length === 0) return [];
      return rank(collectionIds, query, await queryVector(actor, query), first);
    },
    /** The fused ranking for a vector already made. */
    rank,
    /** The meaning ranking alone, nearest first (the two vector paths must agree on it). */
    async nearest(collectionIds: string[], vector: number[], first: number): Promise<Array<{ id: string; distance: number }>> {
      const rows = await run<{ id: string; distance: number }>(
        Prisma.sql`SELECT id, distance::float8 AS distance FROM (${vectorRanking(collectionIds, vector, first)}) ranked ORDER BY rank`,
      );
      return rows.map((row) => ({ id: row.id, distance: Number(row.distance) }));
    },
  };
}

export type KnowledgeSearch = ReturnType<typeof createKnowledgeSearch>;
